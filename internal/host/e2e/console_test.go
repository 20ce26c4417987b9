package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// TestConsole drives the web console in headless Chromium against a real `sous dev`:
// the one-time sign-in link, a streaming run whose chunks arrive one by one before
// the result, dev logs (stderr marked), the live feed, their absence in prod after the
// promote button, a readable function error, Stop watching (the run still finishes), the
// filtered invocations list, the deep link to an invocation (with Last-Event-ID resume),
// the link working only once and a pasted token.
// Screenshots go to $SOUS_TEST_ARTIFACTS (or a temp dir named in the log).
func TestConsole(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), ".sous")
	h := startDev(t, dataDir, "configs/sous.yaml")
	link := waitLink(t, h)
	shots := artifactDir(t)
	b := newBrowser(t)
	shot := func(name string) {
		t.Helper()
		png := run(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// open loads a console route afresh (the tab's session stays), so no element of
	// the previous view can be mistaken for one of the next.
	open := func(route string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.Navigate("about:blank"), chromedp.Navigate(h.api+"/console/"+route))
	}

	// Sign in with the link sous dev printed: the functions list appears.
	b.do(t, "sign in with the link", chromedp.Navigate(link), chromedp.WaitVisible(css("#functions")))
	list := b.text(t, "#functions")
	for _, fn := range []string{"stream-bun", "chatty", "fails", "Streams the words"} {
		if !strings.Contains(list, fn) {
			t.Errorf("functions list lacks %q:\n%s", fn, list)
		}
	}
	shot("console-functions.png")

	// A streaming run: record every change of Output; chunks must arrive one by one,
	// spread over the function's own sleeps, before the result.
	b.do(t, "stream a run", open("#/functions/stream-bun"), chromedp.WaitVisible(css("#run")),
		chromedp.WaitVisible(css("#code")),
		chromedp.SetValue(css("#input"), `{"text": "one two three four five", "delay_ms": 250}`))
	run(t, b, "watch output", chromedp.Evaluate[any](watchOutputJS))
	b.do(t, "run", chromedp.Click(css("#run")), chromedp.WaitVisible(css("#run-duration")))
	timeline := run(t, b, "read timeline", chromedp.Evaluate[[]struct {
		C int     `json:"c"`
		R bool    `json:"r"`
		T float64 `json:"t"`
	}](`window.__timeline`))
	sawChunks, firstT, lastT := 0, 0.0, 0.0
	for _, s := range timeline {
		if !s.R && s.C == sawChunks+1 {
			sawChunks = s.C
			if s.C == 1 {
				firstT = s.T
			}
			lastT = s.T
		}
	}
	if len(timeline) == 0 || sawChunks != 5 || !timeline[len(timeline)-1].R || timeline[len(timeline)-1].C != 5 {
		t.Errorf("chunks did not arrive one by one before the result: %+v", timeline)
	}
	if lastT-firstT < 500 { // the function sleeps 250 ms after each word: ≥ 1 s between chunks 1 and 5
		t.Errorf("chunks 1..5 arrived within %.0f ms: they were not streamed live (%+v)", lastT-firstT, timeline)
	}
	shot("console-run-stream.png")

	// Dev: logs in the terminal, stderr marked.
	b.do(t, "run chatty in dev", open("#/functions/chatty"), chromedp.WaitVisible(css("#run")),
		chromedp.SetValue(css("#input"), `{"lines": 3}`), chromedp.SetValue(css("#target"), "env=dev"),
		chromedp.Click(css("#run")), chromedp.WaitVisible(css("#run-duration")))
	stdout, stderr, devID := b.text(t, "#logs .line.stdout"), b.text(t, "#logs .line.stderr"), b.text(t, "#run-status .inv-link")
	if !strings.Contains(stdout, "debug line 0") || !strings.Contains(stderr, "warn: this one goes to stderr") {
		t.Errorf("dev logs: stdout %q, stderr %q", stdout, stderr)
	}
	shot("console-run-dev-logs.png")

	// The live feed: a run started elsewhere shows up with its dev logs.
	b.do(t, "feed polled", chromedp.WaitReady(css("#feed[data-polled]")))
	admin := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "auth", "admin.token")))
	asyncID, err := client.New(h.api, admin).
		InvokeAsync(context.Background(), "chatty", []byte(`{"lines": 2}`), client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		live := b.text(t, "#live-logs")
		if strings.Contains(live, asyncID[len(asyncID)-8:]) && strings.Contains(live, "debug line 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live feed never showed the logs of %s:\n%s", asyncID, live)
		}
	}
	shot("console-live-feed.png")

	// Promote with the button, run in prod: no log lines, and the panel says why.
	b.do(t, "promote and run chatty in prod", chromedp.Click(css("#promote")),
		chromedp.WaitReady(css(`#target option[value="env=prod"]`)),
		chromedp.SetValue(css("#input"), `{"lines": 3}`), chromedp.SetValue(css("#target"), "env=prod"),
		chromedp.Click(css("#run")), chromedp.WaitVisible(css("#run-duration")))
	gated, prodOut := b.text(t, "#logs-gated"), b.text(t, "#result")
	prodLines := run(t, b, "count log lines", chromedp.Evaluate[int](`document.querySelectorAll('#logs .line').length`))
	if prodLines != 0 || !strings.Contains(gated, "Logs are gated") || !strings.Contains(prodOut, `"env": "prod"`) {
		t.Errorf("prod run: %d log lines, note %q, result %q", prodLines, gated, prodOut)
	}
	shot("console-run-prod.png")

	// A function's error: kind, message and the line in its source.
	b.do(t, "run fails", open("#/functions/fails"), chromedp.WaitVisible(css("#run")),
		chromedp.Click(css("#run")), chromedp.WaitVisible(css("#run-duration")))
	failure := b.text(t, "#result .error-box")
	for _, want := range []string{"USER", "Error: something went wrong on purpose", "at index.ts:5"} { // the kind is shown upper-case
		if !strings.Contains(failure, want) {
			t.Errorf("error box %q lacks %q", failure, want)
		}
	}
	shot("console-run-error.png")

	// Stop watching a run: the stream closes, the run goes on to its end and is recorded.
	b.do(t, "stop watching", open("#/functions/slow"), chromedp.WaitVisible(css("#run")),
		chromedp.SetValue(css("#input"), `{"ms": 1500}`), chromedp.Click(css("#run")),
		chromedp.WaitVisible(css("#run-status .s-running")), chromedp.Click(css("#cancel")))
	slowID := b.text(t, "#run-status .inv-link")
	if note := b.text(t, "#run-note"); !strings.Contains(note, "The run goes on") {
		t.Errorf("after Stop watching: %q", note)
	}
	b.do(t, "the stopped run finishes", open("#/invocations/"+slowID), chromedp.WaitVisible(css("#events .ev-result")))
	if rec, err := client.New(h.api, admin).GetInvocation(context.Background(), slowID); err != nil || rec["status"] != "succeeded" {
		t.Errorf("the run the console stopped watching: %v %v", rec["status"], err)
	}

	// The invocations list, filtered by function and status.
	b.do(t, "filter invocations", open("#/invocations?function=chatty&status=succeeded"), chromedp.WaitVisible(css("#invocations tbody a.mono")))
	fns := run(t, b, "list functions column", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#invocations tbody tr')].map(r => r.children[1].textContent + '/' + r.children[4].textContent)`))
	if len(fns) < 3 {
		t.Errorf("filtered list has %d rows, want the 3+ chatty runs", len(fns))
	}
	for _, f := range fns {
		if f != "chatty/succeeded" {
			t.Errorf("filter function=chatty status=succeeded shows %q", f)
		}
	}
	shot("console-invocations.png")

	// Deep link to the dev run, loaded fresh: the record and its replayed events.
	b.do(t, "deep link", open("#/invocations/"+devID),
		chromedp.WaitVisible(css("#record")), chromedp.WaitVisible(css("#events .ev-result")))
	record, events := b.text(t, "#record"), b.text(t, "#events")
	if !strings.Contains(record, "chatty") || !strings.Contains(record, "succeeded") || !strings.Contains(events, "debug line 2") {
		t.Errorf("deep link: record %q events %q", record, events)
	}
	shot("console-invocation.png")
	b.do(t, "deep link after an event id", open("#/invocations/"+devID+"?after=2"), chromedp.WaitVisible(css("#events .ev-result")))
	if first := b.text(t, "#events .ev-id"); first != "3" {
		t.Errorf("resumed after event 2, first event shown is %q", first)
	}

	// The link works once; a pasted token signs in.
	run(t, b, "clear session", chromedp.Evaluate[any](`sessionStorage.clear()`))
	b.do(t, "reuse the link", chromedp.Navigate("about:blank"), chromedp.Navigate(link), chromedp.WaitVisible(css("#token")))
	if refused := b.text(t, "form.signin .problem"); !strings.Contains(refused, "used already") {
		t.Errorf("second use of the sign-in link: %q", refused)
	}
	b.do(t, "paste a token", chromedp.SetValue(css("#token"), admin), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#functions")))
}

// watchOutputJS records, on each change of the Output pane, the number of chunks,
// whether the result is there, and when.
const watchOutputJS = `(() => {
  window.__timeline = [];
  const out = document.getElementById('output');
  new MutationObserver(() => {
    const c = out.querySelectorAll('.chunk').length, r = !!out.querySelector('#result');
    const last = window.__timeline[window.__timeline.length - 1];
    if (!last || last.c !== c || last.r !== r) window.__timeline.push({c, r, t: performance.now()});
  }).observe(out, {childList: true, subtree: true});
})()`

// waitLink returns the one-time sign-in link `sous dev` printed.
func waitLink(t *testing.T, h *devHost) string {
	t.Helper()
	re := regexp.MustCompile(`Console: (http://\S+#signin=[0-9a-f]{64})`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(h.log()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("sous dev printed no console link:\n%s", h.log())
	return ""
}

// artifactDir is where screenshots are kept: $SOUS_TEST_ARTIFACTS, else a new
// temp dir that outlives the test (its path is logged).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("SOUS_TEST_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "sous-console-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("console screenshots in %s", dir)
	return dir
}

// browser is one headless Chromium with a fresh profile.
type browser struct{ ctx context.Context }

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(testenv.Chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// do performs a step's actions within a minute, failing the test with the step name.
func (b *browser) do(t *testing.T, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, b, step, chromedp.Steps(actions...))
}

// text returns the text of the first element matching a CSS selector.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return run(t, b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// run runs one action within a minute and returns its value; on failure it shows the page.
func run[T any](t *testing.T, b *browser, step string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v\npage text:\n%s", step, err, body)
	}
	return v
}
