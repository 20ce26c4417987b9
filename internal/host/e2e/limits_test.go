package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// codeqYAML is the default stack (codeQ driver with its embedded broker, embedded
// events) on free ports.
func codeqYAML(t *testing.T) string {
	return fmt.Sprintf(`  messaging:
    driver: codeq
    codeq: {embedded: true, producer_addr: %q, worker_addr: %q, http_addr: %q}
  events: {driver: embedded}
invoke: {idle_timeout: 20s, total_timeout: 60s}
`, freeAddr(t), freeAddr(t), freeAddr(t))
}

// deploySource deploys one Python file as function name.
func (s *stack) deploySource(name, source string) {
	s.t.Helper()
	dir := s.t.TempDir()
	manifest := "name: " + name + "\nruntime: python\nentry: main.py\ntimeout: 20s\n"
	if err := os.WriteFile(filepath.Join(dir, "sous.yaml"), []byte(manifest), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte(source), 0o600); err != nil {
		s.t.Fatal(err)
	}
	_, req, err := client.PackDir(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.client().Deploy(context.Background(), name, req); err != nil {
		s.t.Fatalf("deploy %s: %v", name, err)
	}
}

// measureFn answers the size and nesting of its input.
const measureFn = `def depth(v):
    if isinstance(v, list):
        return 1 + max([depth(x) for x in v] or [0])
    if isinstance(v, dict):
        return 1 + max([depth(x) for x in v.values()] or [0])
    return 0


def handler(input, ctx):
    pad = input.get("pad", "") if isinstance(input, dict) else ""
    return {"pad": len(pad), "depth": depth(input)}
`

// post sends body to a function and returns the HTTP status and the decoded answer.
func (s *stack) post(fn string, body []byte) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.apiURL+"/v1/functions/"+fn+"/invoke", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// padded is {"pad":"xxx…"} of exactly n bytes.
func padded(n int) []byte {
	return []byte(`{"pad":"` + strings.Repeat("<", n-len(`{"pad":""}`)) + `"}`)
}

// outputOf is the output of a sync answer, as compact JSON.
func outputOf(answer map[string]any) string {
	b, _ := json.Marshal(answer["output"])
	return string(b)
}

// nested is depth levels of arrays around {"pad":"x"}, plus the object itself.
func nested(depth int) []byte {
	return []byte(strings.Repeat("[", depth-1) + `{"pad":"x"}` + strings.Repeat("]", depth-1))
}

// TestInputLimitsOnEveryStack: one input limit (limits.max_input_bytes) and one depth
// limit hold on the default stack and on Redis: an input of exactly the limit runs
// (characters JSON would escape included), one byte more is 413 naming the key, never
// 503; input nested past the limit is 400 naming limits.max_input_depth, and at the
// limit it runs in Python. Resuming events after an id past the log's end is 400.
func TestInputLimitsOnEveryStack(t *testing.T) {
	rs := testenv.StartRedis(t)
	for name, yaml := range map[string]string{"codeq+embedded": codeqYAML(t), "redis": redisYAML(rs.URL, "20s")} {
		t.Run(name, func(t *testing.T) {
			s := newStack(t, yaml)
			s.start("all", "all")
			s.deploySource("measure", measureFn)
			code, out := s.post("measure", padded(1<<20))
			if code != 200 || outputOf(out) != fmt.Sprintf(`{"depth":1,"pad":%d}`, 1<<20-10) {
				t.Fatalf("input of exactly limits.max_input_bytes: HTTP %d %v", code, out)
			}
			code, out = s.post("measure", padded(1<<20+1))
			if code != 413 || !strings.Contains(fmt.Sprint(out), "limits.max_input_bytes") {
				t.Fatalf("input one byte over: want 413 naming limits.max_input_bytes, got HTTP %d %v", code, out)
			}
			code, out = s.post("measure", nested(5000))
			if code != 400 || !strings.Contains(fmt.Sprint(out), "limits.max_input_depth 64") {
				t.Fatalf("input 5000 deep: want 400 naming limits.max_input_depth, got HTTP %d %v", code, out)
			}
			code, out = s.post("measure", nested(64))
			if code != 200 || outputOf(out) != `{"depth":64,"pad":0}` {
				t.Fatalf("input 64 deep: HTTP %d %v", code, out)
			}
			id, _ := out["invocation_id"].(string)
			past := "99"
			if name == "redis" {
				past = "99999999999999-0"
			}
			var apiErr *client.APIError
			err := s.client().Events(context.Background(), id, past, true, func(client.Event) error { return nil })
			if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(err.Error(), "past the end") {
				t.Fatalf("Last-Event-ID %s past the end of the log: want 400, got %v", past, err)
			}
		})
	}
}

// TestUndecodableTaskFailsAtOnce: a task the worker cannot decode (the depth limit
// raised past what Go's decoder takes) is failed at once: the caller gets a failed
// answer saying why, well before the idle timeout, and the record says the same.
func TestUndecodableTaskFailsAtOnce(t *testing.T) {
	s := newStack(t, codeqYAML(t))
	s.start("all", "all", "limits.max_input_depth=20000")
	s.deploySource("measure", measureFn)
	start := time.Now()
	code, out := s.post("measure", nested(10000)) // valid JSON; its task is one level deeper

	if code == http.StatusGatewayTimeout || out["status"] != "failed" || !strings.Contains(fmt.Sprint(out["error"]), "could not decode the task") {
		t.Fatalf("undecodable task: want a failed answer saying why, got HTTP %d %v after %s", code, out, time.Since(start))
	}
	id, _ := out["invocation_id"].(string)
	rec := waitStatus(t, s.client(), id, "failed", 10*time.Second)
	if !strings.Contains(errorOf(rec), "could not decode the task") {
		t.Fatalf("record: %v", rec)
	}
}

// TestEventCapTruncatesVisibly: past limits.max_event_bytes a run's chunks are dropped
// behind one truncation status event; the result and done still arrive.
func TestEventCapTruncatesVisibly(t *testing.T) {
	s := newStack(t, codeqYAML(t))
	s.start("all", "all", "limits.max_event_bytes=2000")
	s.deploy("stream-python")
	var chunks, truncated int
	var last string
	err := s.client().InvokeStream(context.Background(), "stream-python", []byte(`{"n":300}`), client.InvokeOptions{}, func(e client.Event) error {
		switch {
		case e.Envelope.Type == "chunk":
			chunks++
		case e.Envelope.Type == "status" && e.Envelope.Status == "truncated":
			truncated++
			if !strings.Contains(e.Envelope.Message, "limits.max_event_bytes") {
				t.Errorf("truncation event does not name the limit: %+v", e.Envelope)
			}
		case e.Envelope.Type == "result":
			last = string(e.Envelope.Output)
		}
		return nil
	})
	if err != nil || truncated != 1 || chunks == 0 || chunks >= 300 || last != `{"sum": 45150}` && last != `{"sum":45150}` {
		t.Fatalf("want some chunks, one truncation event and the result: %d chunks, %d truncations, result %s, %v", chunks, truncated, last, err)
	}
}
