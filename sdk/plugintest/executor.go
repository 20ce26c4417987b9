package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// ExecFunc is a function bundle prepared by the Executor suite.
type ExecFunc struct {
	Spec *executorpb.FunctionSpec
}

// NewFunc builds a FunctionSpec from files (path -> source) whose digest is the
// sha256 of the files, entry, vars and limits, so different bundles never collide.
func NewFunc(runtime, entry string, files map[string]string, vars map[string]string, limits *executorpb.Limits) *executorpb.FunctionSpec {
	h := sha256.New()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	spec := &executorpb.FunctionSpec{Runtime: runtime, Entry: entry, Files: map[string][]byte{}, Vars: vars, Limits: limits, Function: "fx"}
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
	Attempt      int32
	Deadline     time.Time
	Tenant       string
	Function     string // "" = fx
}

// Exec runs one invocation and returns every envelope, checking the stream ends with
// exactly one terminal envelope.
func Exec(t testing.TB, c *sdk.Conn, digest, input string, o RunOpts) []*envelope.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	envs, err := execStream(ctx, c, digest, input, o, nil)
	if err != nil {
		t.Fatalf("run %s: %v", digest[:12], err)
	}
	checkTerminal(t, envs)
	return envs
}

func execStream(ctx context.Context, c *sdk.Conn, digest, input string, o RunOpts, each func(*envelope.Envelope)) ([]*envelope.Envelope, error) {
	req := &executorpb.RunRequest{InvocationId: o.InvocationID, Digest: digest, InputJson: []byte(input), Env: o.Env,
		Function: o.Function, Version: o.Version, Attempt: o.Attempt, Tenant: o.Tenant}
	if req.Function == "" {
		req.Function = "fx"
	}
	if req.InvocationId == "" {
		req.InvocationId = fmt.Sprintf("inv-%d", time.Now().UnixNano())
	}
	if !o.Deadline.IsZero() {
		req.DeadlineUnixMs = o.Deadline.UnixMilli()
	}
	st, err := c.Executor.Run(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []*envelope.Envelope
	for {
		ev, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		e, err := envelope.Unmarshal(ev.Envelope)
		if err != nil {
			return out, fmt.Errorf("invalid envelope %s: %w", ev.Envelope, err)
		}
		out = append(out, e)
		if each != nil {
			each(e)
		}
	}
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
func Prepare(t testing.TB, c *sdk.Conn, spec *executorpb.FunctionSpec) bool {
	t.Helper()
	r, err := c.Executor.Prepare(context.Background(), &executorpb.PrepareRequest{Spec: spec})
	if err != nil {
		t.Fatalf("prepare %s: %v", spec.Entry, err)
	}
	return r.Cached
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

func isCode(err error, c codes.Code) bool { return status.Code(err) == c }

// TryExecutor launches tg's binary as an executor plugin and configures it, returning
// the Configure error instead of failing (for tests of bad or odd configs). The plugin
// is killed when the test ends.
func TryExecutor(t testing.TB, tg Target) (*sdk.Conn, error) {
	t.Helper()
	c, err := sdk.Open(context.Background(), sdk.OpenOptions{Path: tg.Path, Kind: sdk.KindExecutor, Env: tg.Env})
	if err != nil {
		t.Fatalf("launch %s: %v", tg.Path, err)
	}
	t.Cleanup(c.Kill)
	if tg.DataDir == "" {
		tg.DataDir = t.TempDir()
	}
	return c, c.Configure(context.Background(), []byte(tg.Config), tg.DataDir)
}

// RuntimePath returns the interpreter a configured executor resolved (Health details).
func RuntimePath(t testing.TB, c *sdk.Conn) string {
	t.Helper()
	h, err := c.Base.Health(context.Background(), &basepb.HealthRequest{})
	if err != nil || !h.Healthy {
		t.Fatalf("health: %v %v", h, err)
	}
	return h.Details["runtime"]
}
