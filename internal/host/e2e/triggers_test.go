package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/triggers/webhook"
	"github.com/sous-run/sous/internal/testenv"
)

// hookReceiver is a real HTTP receiver on loopback that answers with a settable code.
type hookReceiver struct {
	mu    sync.Mutex
	codes []int // answered in turn; the last one repeats
	reqs  []hookRequest
	srv   *httptest.Server
}

type hookRequest struct {
	sig  string
	body []byte
	code int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{codes: []int{200}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := r.codes[0]
		if len(r.codes) > 1 {
			r.codes = r.codes[1:]
		}
		r.reqs = append(r.reqs, hookRequest{sig: req.Header.Get(webhook.SignatureHeader), body: b, code: code})
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) answer(codes ...int) {
	r.mu.Lock()
	r.codes = codes
	r.mu.Unlock()
}

// requestsFor returns the requests whose body names invocation id.
func (r *hookReceiver) requestsFor(id string) []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hookRequest
	for _, q := range r.reqs {
		if strings.Contains(string(q.body), `"id":"`+id+`"`) {
			out = append(out, q)
		}
	}
	return out
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// readmeFileBlock returns the README code block in lang whose first line is "<comment> file".
func readmeFileBlock(t *testing.T, lang, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n((?://|#) " + regexp.QuoteMeta(file) + "\n.*?)```").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("README.md has no %s block starting with %s", lang, file)
	}
	return m[1]
}

// devClient is an API client of a dev host with its admin token.
func devClient(t *testing.T, h *devHost) *client.Client {
	tok, err := os.ReadFile(client.TokenFile(h.dataDir))
	if err != nil {
		t.Fatal(err)
	}
	return client.New(h.api, strings.TrimSpace(string(tok)))
}

// killHost is SIGKILL to the host and its plugins.
func killHost(h *devHost) {
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	<-h.done
}

// triggerRecord is the part of an invocation record the trigger tests read.
type triggerRecord struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Output   json.RawMessage `json:"output"`
	Trigger  string          `json:"trigger"`
	TickAt   *time.Time      `json:"tick_at"`
	Callback *store.Callback `json:"callback"`
}

func getTriggerRecord(t *testing.T, c *client.Client, id string) triggerRecord {
	t.Helper()
	var r triggerRecord
	if err := c.Do(context.Background(), "GET", "/v1/invocations/"+id, nil, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitRecord polls the record until ok or the deadline.
func waitRecord(t *testing.T, c *client.Client, id string, within time.Duration, ok func(triggerRecord) bool) triggerRecord {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := getTriggerRecord(t, c, id)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %s stuck at status %s callback %+v", id, r.Status, r.Callback)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scheduledRuns lists the function's invocations started by schedule id.
func scheduledRuns(t *testing.T, c *client.Client, fn, id string) []triggerRecord {
	t.Helper()
	var list struct {
		Invocations []triggerRecord `json:"invocations"`
	}
	if err := c.Do(context.Background(), "GET", "/v1/invocations?limit=1000&function="+fn, nil, &list); err != nil {
		t.Fatal(err)
	}
	var out []triggerRecord
	for _, r := range list.Invocations {
		if r.Trigger == "schedule:"+id {
			out = append(out, r)
		}
	}
	return out
}

// TestCompletionWebhooks: signed delivery, retries visible on the record, delivery after
// a SIGKILL mid-retry, and refused destinations, against a dev host and a real receiver.
func TestCompletionWebhooks(t *testing.T) {
	rcv := newHookReceiver(t)
	dataDir := filepath.Join(t.TempDir(), ".sous")
	sets := []string{"webhooks.allow_cidrs=127.0.0.1/32", "webhooks.backoff_base=400ms", "webhooks.backoff_max=1s"}
	h := startDev(t, dataDir, "configs/sous.yaml", sets...)
	c := devClient(t, h)
	ctx := context.Background()
	sec, err := c.WebhookSecret(ctx, false)
	if err != nil || !strings.HasPrefix(sec.Secret, "whsec_") {
		t.Fatalf("webhook secret: %+v %v", sec, err)
	}
	hook := rcv.srv.URL + "/hook"
	top := t // the restarted host outlives the subtest that starts it

	t.Run("private, loopback and link-local destinations are refused at invoke time", func(t *testing.T) {
		for url, rule := range map[string]string{"http://10.0.0.5/hook": "private", "http://127.0.0.2:9/hook": "loopback",
			"http://169.254.169.254/latest": "link-local", "http://[::1]:9/hook": "loopback", "http://192.168.1.10/": "private"} {
			_, err := c.InvokeAsync(ctx, "hello-bun", nil, client.InvokeOptions{CallbackURL: url})
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "callback_refused" ||
				!strings.Contains(apiErr.Message, rule) || !strings.Contains(apiErr.Message, "webhooks.allow_cidrs") ||
				!strings.Contains(apiErr.Message, "Sous-Callback-Url") {
				t.Errorf("%s: want 400 callback_refused naming %s and webhooks.allow_cidrs, got %v", url, rule, err)
			}
		}
		_, err := c.Invoke(ctx, "hello-bun", nil, client.InvokeOptions{CallbackURL: hook})
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Message, "respond-async") {
			t.Errorf("a callback on a sync invoke: want 400 naming respond-async, got %v", err)
		}
	})

	t.Run("500 twice then 200: three signed attempts on the record", func(t *testing.T) {
		rcv.answer(500, 500, 200)
		out, _ := h.must("invoke", "hello-python", "--async", "--data", `{"name":"hook"}`, "--callback", hook)
		id := strings.TrimSpace(out)
		r := waitRecord(t, c, id, 30*time.Second, func(r triggerRecord) bool { return r.Callback != nil && r.Callback.Done() })
		reqs := rcv.requestsFor(id)
		if r.Callback.Status != store.CallbackDelivered || r.Callback.Attempts != 3 || len(reqs) != 3 || r.Callback.URL != hook {
			t.Fatalf("callback %+v after %d requests; want delivered on attempt 3", r.Callback, len(reqs))
		}
		for i, q := range reqs {
			if err := webhook.Verify(q.sig, sec.Secret, q.body, 5*time.Minute, time.Now()); err != nil {
				t.Fatalf("request %d: %v (header %q)", i+1, err, q.sig)
			}
		}
		var p webhook.Payload
		if err := json.Unmarshal(reqs[2].body, &p); err != nil || p.Status != "succeeded" || p.Function != "hello-python" ||
			!strings.Contains(string(p.Output), `"hello":"hook"`) || p.Env != "dev" {
			t.Fatalf("body %s (%v)", reqs[2].body, err)
		}
		if strings.Contains(string(reqs[2].body), `"logs"`) {
			t.Fatalf("the body carries logs: %s", reqs[2].body)
		}
		if webhook.Verify(reqs[2].sig, "whsec_wrong", reqs[2].body, 5*time.Minute, time.Now()) == nil {
			t.Fatal("a wrong secret verified")
		}
	})

	t.Run("the README receivers in Bun and Python verify real deliveries", func(t *testing.T) {
		for _, rc := range []struct{ file, lang, runtime string }{
			{"receiver.ts", "ts", testenv.Bun(t)}, {"receiver.py", "python", testenv.Python(t)}} {
			code := readmeFileBlock(t, rc.lang, rc.file)
			path := filepath.Join(t.TempDir(), rc.file)
			if err := os.WriteFile(path, []byte(code), 0o600); err != nil {
				t.Fatal(err)
			}
			port := testenv.FreePort(t)
			var out syncBuffer
			cmd := exec.Command(rc.runtime, path)
			cmd.Env = append(os.Environ(), "SOUS_WEBHOOK_SECRET="+sec.Secret, fmt.Sprintf("PORT=%d", port))
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			url := fmt.Sprintf("http://127.0.0.1:%d/hook", port)
			testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second)
			forged, _ := http.Post(url, "application/json", strings.NewReader(`{"id":"x","status":"succeeded"}`))
			if forged == nil || forged.StatusCode != 400 {
				t.Fatalf("%s accepted an unsigned body: %v", rc.file, forged)
			}
			forged.Body.Close()
			id, err := c.InvokeAsync(ctx, "hello-bun", nil, client.InvokeOptions{CallbackURL: url})
			if err != nil {
				t.Fatal(err)
			}
			r := waitRecord(t, c, id, 30*time.Second, func(r triggerRecord) bool { return r.Callback != nil && r.Callback.Done() })
			if r.Callback.Status != store.CallbackDelivered || r.Callback.Attempts != 1 {
				t.Fatalf("%s: callback %+v; output:\n%s", rc.file, r.Callback, out.String())
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(out.String(), "verified "+id+" succeeded") && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(out.String(), "verified "+id) {
				t.Fatalf("%s printed %q", rc.file, out.String())
			}
		}
	})

	t.Run("on_complete in sous.yaml calls back async runs; a private one is refused at deploy", func(t *testing.T) {
		_, req, err := client.PackDir(filepath.Join(testenv.RepoRoot(), "examples", "functions", "hello-bun"))
		if err != nil {
			t.Fatal(err)
		}
		req.OnComplete = "http://10.0.0.7/hook"
		_, err = c.Deploy(ctx, "hooked", req)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Message, "on_complete") || !strings.Contains(apiErr.Message, "private") {
			t.Fatalf("deploy with a private on_complete: want 400 naming on_complete and the rule, got %v", err)
		}
		req.OnComplete = hook
		if _, err := c.Deploy(ctx, "hooked", req); err != nil {
			t.Fatal(err)
		}
		id, err := c.InvokeAsync(ctx, "hooked", nil, client.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := waitRecord(t, c, id, 30*time.Second, func(r triggerRecord) bool { return r.Callback != nil && r.Callback.Done() })
		if r.Callback.URL != hook || r.Callback.Status != store.CallbackDelivered || len(rcv.requestsFor(id)) != 1 {
			t.Fatalf("on_complete: callback %+v", r.Callback)
		}
		if res, err := c.Invoke(ctx, "hooked", nil, client.InvokeOptions{}); err != nil || getTriggerRecord(t, c, res.InvocationID).Callback != nil {
			t.Fatalf("a sync run got a callback: %v", err)
		}
	})

	t.Run("a host killed mid-retry still delivers after restart", func(t *testing.T) {
		rcv.answer(503)
		id, err := c.InvokeAsync(ctx, "hello-bun", nil, client.InvokeOptions{CallbackURL: hook})
		if err != nil {
			t.Fatal(err)
		}
		waitRecord(t, c, id, 30*time.Second, func(r triggerRecord) bool { return r.Callback != nil && r.Callback.Attempts >= 1 })
		killHost(h)
		rcv.answer(200)
		h = startDev(top, dataDir, "configs/sous.yaml", sets...)
		c = devClient(t, h)
		r := waitRecord(t, c, id, 30*time.Second, func(r triggerRecord) bool { return r.Callback != nil && r.Callback.Done() })
		reqs := rcv.requestsFor(id)
		if r.Callback.Status != store.CallbackDelivered || len(reqs) < 2 || reqs[len(reqs)-1].code != 200 {
			t.Fatalf("after restart: callback %+v, %d requests", r.Callback, len(reqs))
		}
	})

	t.Run("after a rotation both secrets sign for a while", func(t *testing.T) {
		out, _ := h.must("webhooks", "secret", "--rotate")
		fresh := strings.TrimSpace(out)
		if fresh == sec.Secret || !strings.HasPrefix(fresh, "whsec_") {
			t.Fatalf("rotated secret %q", fresh)
		}
		id, err := c.InvokeAsync(ctx, "hello-bun", nil, client.InvokeOptions{CallbackURL: hook})
		if err != nil {
			t.Fatal(err)
		}
		waitRecord(t, c, id, 30*time.Second, func(r triggerRecord) bool { return r.Callback != nil && r.Callback.Done() })
		q := rcv.requestsFor(id)[0]
		for _, s := range []string{fresh, sec.Secret} {
			if err := webhook.Verify(q.sig, s, q.body, 5*time.Minute, time.Now()); err != nil {
				t.Fatalf("secret %s…: %v", s[:10], err)
			}
		}
	})
}

// TestSchedulesOnOneHost: bad expressions are 400s naming the field; a schedule fires
// with its trigger and tick on the record, survives a restart, and a paused one never
// fires.
func TestSchedulesOnOneHost(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), ".sous")
	h := startDev(t, dataDir, "configs/sous.yaml")
	c := devClient(t, h)
	ctx := context.Background()
	for _, bad := range []struct {
		req        wire.ScheduleRequest
		code, want string
	}{
		{wire.ScheduleRequest{Cron: "61 * * * *"}, "invalid_cron", "minute field"},
		{wire.ScheduleRequest{Cron: "* * * * * *"}, "invalid_cron", "has 6 fields"},
		{wire.ScheduleRequest{Cron: "@hourly", Timezone: "Nowhere/City"}, "invalid_timezone", "timezone"},
		{wire.ScheduleRequest{Cron: "@hourly", Catchup: "all"}, "invalid_catchup", "catchup"},
		{wire.ScheduleRequest{Cron: "@hourly", Env: "prod"}, "invalid_env", "env"},
	} {
		_, err := c.PutSchedule(ctx, "hello-bun", "bad", &bad.req)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != bad.code || !strings.Contains(apiErr.Message, bad.want) {
			t.Errorf("%+v: want 400 %s naming %q, got %v", bad.req, bad.code, bad.want, err)
		}
	}

	// Created paused: added enabled and paused by a second command, it fired whenever
	// a whole second fell between the two. Pausing it again still runs `schedule pause`.
	h.must("schedule", "add", "hello-bun", "paused", "--cron", "@every 1s", "--paused")
	if out, _ := h.must("schedule", "pause", "hello-bun", "paused"); !strings.Contains(out, "paused") {
		t.Fatalf("sous schedule pause printed %q", out)
	}
	sc, err := c.PutSchedule(ctx, "hello-python", "tick", &wire.ScheduleRequest{Cron: "@every 1s", Input: json.RawMessage(`{"name":"cron"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if sc.NextRun == nil || time.Until(*sc.NextRun) > 2*time.Second || sc.Catchup != "one" || sc.Timezone != "UTC" {
		t.Fatalf("new schedule %+v", sc)
	}
	waitRuns := func(after time.Time, n int) []triggerRecord {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var done []triggerRecord
			for _, r := range scheduledRuns(t, c, "hello-python", "tick") {
				if r.Status == "succeeded" && r.TickAt != nil && r.TickAt.After(after) {
					done = append(done, r)
				}
			}
			if len(done) >= n {
				return done
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d scheduled runs after %s, want %d", len(done), after, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	runs := waitRuns(time.Time{}, 2)
	ticks := map[time.Time]bool{}
	for _, r := range runs {
		if ticks[*r.TickAt] || !strings.Contains(string(r.Output), `"cron"`) || r.TickAt.Nanosecond() != 0 {
			t.Fatalf("run %+v (ticks so far %v)", r, ticks)
		}
		ticks[*r.TickAt] = true
	}

	h.interrupt()
	restarted := time.Now()
	h = startDev(t, dataDir, "configs/sous.yaml")
	c = devClient(t, h)
	waitRuns(restarted, 2)

	if out, _ := h.must("schedule", "ls"); !strings.Contains(out, "NEXT RUN") || !strings.Contains(out, "tick") {
		t.Errorf("sous schedule ls printed %q", out)
	}
	list, err := c.ListSchedules(ctx, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	for _, s := range list {
		switch s.ID {
		case "paused":
			if s.Enabled || s.NextRun != nil || s.LastTick != nil {
				t.Errorf("paused schedule %+v", s)
			}
		case "tick":
			if s.NextRun == nil || s.LastInvocation == "" || s.LastTick == nil {
				t.Errorf("tick schedule %+v", s)
			}
		}
	}
	if n := len(scheduledRuns(t, c, "hello-bun", "paused")); n != 0 {
		t.Fatalf("the paused schedule fired %d times", n)
	}
	if err := c.DeleteSchedule(ctx, "hello-python", "tick"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSchedule(ctx, "hello-python", "tick"); err == nil {
		t.Fatal("deleted schedule still there")
	}
}

// TestScheduleTwoControlsOnOneRedis: two control processes over one Redis hold the same
// @every 1s schedule for 10 s; the ticks run 10 ± 1 times in all, one run per tick, and
// the function's on_complete is called once per run.
func TestScheduleTwoControlsOnOneRedis(t *testing.T) {
	rs := testenv.StartRedis(t)
	rcv := newHookReceiver(t)
	s := newStack(t, redisYAML(rs.URL, "10s")+"webhooks: {allow_cidrs: [127.0.0.1/32]}\n")
	s.start("c1", "control")
	c1 := s.client()
	s.start("w1", "worker")
	s.start("c2", "control")
	c2 := s.client()
	ctx := context.Background()
	_, req, err := client.PackDir(filepath.Join(testenv.RepoRoot(), "examples", "functions", "hello-python"))
	if err != nil {
		t.Fatal(err)
	}
	req.OnComplete = rcv.srv.URL + "/hook"
	every := &wire.ScheduleRequest{Cron: "@every 1s"}
	for _, c := range []*client.Client{c1, c2} {
		if _, err := c.Deploy(ctx, "hello-python", req); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*client.Client{c1, c2} {
		if _, err := c.PutSchedule(ctx, "hello-python", "every", every); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Second)
	off := false
	for _, c := range []*client.Client{c1, c2} {
		if _, err := c.PutSchedule(ctx, "hello-python", "every", &wire.ScheduleRequest{Cron: "@every 1s", Enabled: &off}); err != nil {
			t.Fatal(err)
		}
	}
	byTick := map[time.Time]map[string]bool{}
	// Each run's events are read from a control that recorded it: c2 may tick once
	// more between the two schedules being turned off, with no record of it on c1.
	holder := map[string]*client.Client{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending := 0
		for _, c := range []*client.Client{c1, c2} {
			for _, r := range scheduledRuns(t, c, "hello-python", "every") {
				if r.Status != "succeeded" || r.Callback == nil || !r.Callback.Done() {
					pending++
					continue
				}
				if byTick[*r.TickAt] == nil {
					byTick[*r.TickAt] = map[string]bool{}
				}
				byTick[*r.TickAt][r.ID] = true
				holder[r.ID] = c
			}
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(byTick) < 9 || len(byTick) > 11 {
		t.Fatalf("%d ticks ran in 10 s; want 10 ± 1", len(byTick))
	}
	for tick, ids := range byTick {
		if len(ids) != 1 {
			t.Fatalf("tick %s ran as %d invocations: %v", tick, len(ids), ids)
		}
		for id := range ids { // one execution: one running status in the run's events
			running := 0
			err := holder[id].Events(ctx, id, "", false, func(e client.Event) error {
				if e.Envelope.Type == "status" && e.Envelope.Status == "running" {
					running++
				}
				return nil
			})
			if err != nil || running != 1 {
				t.Fatalf("tick %s (%s): %d running events (%v); want exactly one execution", tick, id, running, err)
			}
			if n := len(rcv.requestsFor(id)); n != 1 {
				t.Fatalf("tick %s (%s): on_complete called %d times, want once", tick, id, n)
			}
		}
	}
	t.Logf("%d ticks, one invocation each", len(byTick))
}
