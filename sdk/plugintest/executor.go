package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// NewFunc builds a FunctionSpec from files (path -> source) whose digest is the
// sha256 of the files, entry, vars and limits, so different bundles never collide.
func NewFunc(runtime, entry string, files map[string]string, vars map[string]string, limits sdk.Limits) sdk.FunctionSpec {
	h := sha256.New()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	spec := sdk.FunctionSpec{Runtime: runtime, Entry: entry, Files: map[string][]byte{}, Vars: vars, Limits: limits, Function: "fx"}
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%d\x00%s", p, len(files[p]), files[p])
		spec.Files[p] = []byte(files[p])
	}
	fmt.Fprintf(h, "%s\x00%v\x00%v", entry, vars, limits)
	spec.Digest = hex.EncodeToString(h.Sum(nil))
	return spec
}

// RunOpts are the optional parts of a RunRequest the suite varies.
type RunOpts struct {
	InvocationID string
	Env          string
	Version      string
	Attempt      int
	Deadline     time.Time
	Tenant       string
	Function     string // "" = fx
}

// Exec runs one invocation and returns every envelope, checking the stream ends with
// exactly one terminal envelope.
func Exec(t testing.TB, x sdk.Executor, digest, input string, o RunOpts) []*envelope.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	envs, err := execStream(ctx, x, digest, input, o, nil)
	if err != nil {
		t.Fatalf("run %s: %v", digest[:12], err)
	}
	checkTerminal(t, envs)
	return envs
}

func execStream(ctx context.Context, x sdk.Executor, digest, input string, o RunOpts, each func(*envelope.Envelope)) ([]*envelope.Envelope, error) {
	req := sdk.RunRequest{InvocationID: o.InvocationID, Digest: digest, Input: []byte(input), Env: o.Env,
		Function: o.Function, Version: o.Version, Attempt: o.Attempt, Tenant: o.Tenant, Deadline: o.Deadline}
	if req.Function == "" {
		req.Function = "fx"
	}
	if req.InvocationID == "" {
		req.InvocationID = fmt.Sprintf("inv-%d", time.Now().UnixNano())
	}
	var out []*envelope.Envelope
	err := x.Run(ctx, req, func(raw []byte) error {
		e, err := envelope.Unmarshal(raw)
		if err != nil {
			return fmt.Errorf("invalid envelope %s: %w", raw, err)
		}
		out = append(out, e)
		if each != nil {
			each(e)
		}
		return nil
	})
	return out, err
}

func checkTerminal(t testing.TB, envs []*envelope.Envelope) {
	t.Helper()
	for i, e := range envs {
		if e.Type == envelope.TypeDone || e.Type == envelope.TypeStatus {
			t.Fatalf("executor sent a %s envelope; only the worker sends those", e.Type)
		}
		if e.Terminal() != (i == len(envs)-1) {
			t.Fatalf("want exactly one terminal envelope, last; got %s", dump(envs))
		}
	}
	if len(envs) == 0 {
		t.Fatalf("run sent no envelopes")
	}
}

// Terminal returns the last envelope of a run.
func Terminal(envs []*envelope.Envelope) *envelope.Envelope { return envs[len(envs)-1] }

func dump(envs []*envelope.Envelope) string {
	var b strings.Builder
	for _, e := range envs {
		j, _ := json.Marshal(e)
		if len(j) > 300 {
			j = append(j[:300], "…"...)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// Prepare installs spec and fails the test on error.
func Prepare(t testing.TB, x sdk.Executor, spec sdk.FunctionSpec) bool {
	t.Helper()
	cached, err := x.Prepare(context.Background(), spec)
	if err != nil {
		t.Fatalf("prepare %s: %v", spec.Entry, err)
	}
	return cached
}

func wantResult(t testing.TB, envs []*envelope.Envelope, want string) {
	t.Helper()
	last := Terminal(envs)
	if last.Type != envelope.TypeResult {
		t.Fatalf("want result %s, got:\n%s", want, dump(envs))
	}
	if !jsonEqual(last.Output, want) {
		t.Fatalf("result %s, want %s", last.Output, want)
	}
}

func wantError(t testing.TB, envs []*envelope.Envelope, kind string, contains ...string) *envelope.Envelope {
	t.Helper()
	last := Terminal(envs)
	if last.Type != envelope.TypeError || last.Kind != kind {
		t.Fatalf("want error of kind %s, got:\n%s", kind, dump(envs))
	}
	for _, s := range contains {
		if !strings.Contains(last.Message, s) {
			t.Fatalf("error message %q does not contain %q", last.Message, s)
		}
	}
	return last
}

func jsonEqual(a []byte, b string) bool {
	var x, y any
	if len(a) == 0 {
		a = []byte("null")
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func logs(envs []*envelope.Envelope) []*envelope.Envelope {
	var out []*envelope.Envelope
	for _, e := range envs {
		if e.Type == envelope.TypeLog {
			out = append(out, e)
		}
	}
	return out
}

func childPid(t testing.TB, e *envelope.Envelope) (int, bool) {
	t.Helper()
	var pid int
	if e.Type == envelope.TypeLog && strings.HasPrefix(e.Text, "child ") {
		if _, err := fmt.Sscanf(e.Text, "child %d", &pid); err == nil {
			return pid, true
		}
	}
	return 0, false
}

// TryExecutor launches tg's binary as an executor plugin and configures it, returning
// the Configure error instead of failing (for tests of bad or odd configs). The plugin
// is killed when the test ends.
func TryExecutor(t testing.TB, tg Target) (*Plugin, error) {
	t.Helper()
	return TryLaunch(t, tg, sdk.KindExecutor)
}

// RuntimePath returns the interpreter a configured executor resolved (Health details).
func RuntimePath(t testing.TB, p *Plugin) string {
	t.Helper()
	h, err := p.Health(context.Background())
	if err != nil || !h.Healthy {
		t.Fatalf("health: %v %v", h, err)
	}
	return h.Details["runtime"]
}
