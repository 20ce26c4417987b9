package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// `make build` stamps the executors and builds the sandbox's helper beside them: their
// jails' inits run it (Health names it, and it is what the init process executes), and
// functions run. An executor with no helper beside it (`go build`) runs its own binary.
func TestJailsStartThroughTheHelper(t *testing.T) {
	bin := testenv.Plugin(t, "executor-python")
	want := filepath.Join(filepath.Dir(bin), "sous-sandbox")
	if _, err := os.Stat(want); err != nil {
		want = bin
	}
	cfg, _ := json.Marshal(map[string]any{"python": testenv.Python(t), "sandbox": "required"})
	p := plugintest.Launch(t, plugintest.Target{Path: bin, Config: string(cfg), DataDir: t.TempDir()}, sdk.KindExecutor)
	spec := plugintest.NewFunc("python", "main.py", map[string]string{"main.py": "def handler(x, ctx):\n    return x\n"}, nil, sdk.Limits{})
	plugintest.Prepare(t, p.Executor, spec)
	plugintest.WantResult(t, plugintest.Exec(t, p.Executor, spec.Digest, `{"a":1}`, plugintest.RunOpts{}), `{"a":1}`)

	h, err := p.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Details["sandbox_init"]; got != want && !(want == bin && got == "/proc/self/exe") {
		t.Fatalf("health names %q as the jails' init, want %q", got, want)
	}
	inits := 0
	for _, pid := range testenv.Children(p.Pid()) {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil || !strings.Contains(testenv.Cmdline(pid), "sous-sandbox-init") {
			continue
		}
		inits++
		if exe != want {
			t.Errorf("a jail's init runs %s, want %s", exe, want)
		}
	}
	if inits == 0 {
		t.Fatal("no jail init among the plugin's children while a warm process lives")
	}
}
