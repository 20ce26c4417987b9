package harness

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// leaver leaves a file in TMPDIR and a detached process behind when asked, and reports
// what it finds at its start: TMPDIR's entries and the running processes of its PID
// namespace (a killed child stays a zombie until the runtime reaps it).
const leaver = `import os, subprocess

def running(pid):
    try:
        return open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

def handler(event, ctx):
    d = os.environ["TMPDIR"]
    found = {"tmp": sorted(os.listdir(d)), "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and running(p))}
    if event == "file":
        open(os.path.join(d, "left"), "w").write("x")
    if event == "proc":
        subprocess.Popen(["/bin/sleep", "300"], start_new_session=True)
    return found
`

// A warm jailed process starts every run clean whether the last run left nothing
// (the init is not asked), a file in TMPDIR or a process behind.
func TestJailCleanBetweenRuns(t *testing.T) {
	rt, _, _, _, _ := directRuntime(t, "python")
	p := NewPlugin(rt, hclog.NewNullLogger())
	cfg, _ := json.Marshal(map[string]any{"sandbox": SandboxRequired, "cache_dir": t.TempDir()})
	if err := p.Configure(context.Background(), sdk.Config{JSON: cfg, HostDataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	defer p.cur.pool.Close()
	ex := p
	spec := sdk.FunctionSpec{Runtime: "python", Entry: "main.py", Files: map[string][]byte{"main.py": []byte(leaver)}, Function: "fx", Digest: "1eaf1eaf"}
	if _, err := ex.Prepare(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	type found struct {
		Tmp   []string `json:"tmp"`
		Procs []int    `json:"procs"`
	}
	run := func(event string) found {
		s := &captureStream{}
		if err := ex.Run(context.Background(), sdk.RunRequest{InvocationID: "i", Digest: spec.Digest, Input: []byte(`"` + event + `"`), Tenant: "t", Function: "fx"}, s.emit); err != nil {
			t.Fatal(err)
		}
		e, err := envelope.Unmarshal(s.last)
		var f found
		if err != nil || e.Type != envelope.TypeResult || json.Unmarshal(e.Output, &f) != nil {
			t.Fatalf("run %s: %s", event, s.last)
		}
		return f
	}
	first := run("none")
	for _, event := range []string{"none", "file", "proc", "none"} {
		run(event)
		got := run("none")
		if len(got.Tmp) != 0 || len(got.Procs) != len(first.Procs) {
			t.Fatalf("after a run that left %q: TMPDIR %v, processes %v (want none and %v)", event, got.Tmp, got.Procs, first.Procs)
		}
	}
}
