package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// grow echoes its input, or returns a string of n bytes when the input says {"n": n}.
const grow = "export default (input) => input.n ? 'x'.repeat(input.n) : input;\n"

func deployGrow(t *testing.T, s *stack) {
	t.Helper()
	req := &wire.DeployRequest{Runtime: "bun", Entry: "index.js",
		Files: map[string]string{"index.js": base64.StdEncoding.EncodeToString([]byte(grow))}}
	if _, err := s.client().Deploy(context.Background(), "grow", req); err != nil {
		t.Fatalf("deploy grow: %v", err)
	}
}

// invokeQuickly invokes grow and fails the test when the answer takes longer than
// within (the stack's idle timeout is far longer: a lost terminal event shows as a wait).
func invokeQuickly(t *testing.T, c *client.Client, input []byte, within time.Duration) *client.InvokeResult {
	t.Helper()
	start := time.Now()
	res, err := c.Invoke(context.Background(), "grow", input, client.InvokeOptions{})
	if err != nil {
		t.Fatalf("invoke with %d bytes of input: %v", len(input), err)
	}
	if took := time.Since(start); took > within {
		t.Fatalf("the answer took %s (status %s), want under %s", took, res.Status, within)
	}
	return res
}

// TestLargeResultsOverRedis: over messaging-redis and events-redisstream with default
// limits, echoing the largest input (limits.max_input_bytes, 1 MiB) succeeds, and a
// result over limits.max_result_bytes fails with kind limit naming it; each answer
// comes at once, not at the caller's timeout.
func TestLargeResultsOverRedis(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "60s"))
	s.start("all", "all")
	deployGrow(t, s)
	c := s.client()

	t.Run("echo of the largest input", func(t *testing.T) {
		in := []byte(`{"s":"` + strings.Repeat("x", 1<<20-16) + `"}`)
		res := invokeQuickly(t, c, in, 20*time.Second)
		if res.Status != "succeeded" || string(res.Output) != string(in) {
			t.Fatalf("status %s error %+v, output %d bytes; want succeeded echoing %d bytes", res.Status, res.Error, len(res.Output), len(in))
		}
	})
	t.Run("result over max_result_bytes", func(t *testing.T) {
		res := invokeQuickly(t, c, []byte(`{"n":8388608}`), 20*time.Second)
		if res.Status != "failed" || res.Error == nil || res.Error.Kind != "limit" || !strings.Contains(res.Error.Message, "max_result_bytes") {
			t.Fatalf("status %s error %+v; want failed, kind limit, naming max_result_bytes", res.Status, res.Error)
		}
	})
}

// TestTerminalOverEnvelopeLimit: when the event log refuses the run's terminal event
// (here: an events max_envelope_bytes below the result), the caller still gets the
// run's outcome at once, from the final record the worker acked.
func TestTerminalOverEnvelopeLimit(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "60s"))
	s.start("all", "all", "plugins.events.redisstream.max_envelope_bytes=65536")
	deployGrow(t, s)
	res := invokeQuickly(t, s.client(), []byte(`{"n":100000}`), 20*time.Second)
	var out string
	if err := json.Unmarshal(res.Output, &out); res.Status != "succeeded" || err != nil || out != strings.Repeat("x", 100000) {
		t.Fatalf("status %s error %+v output %d bytes (%v); want succeeded with the 100000-byte string", res.Status, res.Error, len(res.Output), err)
	}
	rec, err := s.client().GetInvocation(context.Background(), res.InvocationID)
	if err != nil || fmt.Sprint(rec["status"]) != "succeeded" {
		t.Fatalf("record = %v, %v; want succeeded", rec["status"], err)
	}
}
