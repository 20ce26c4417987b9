package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	"github.com/sous-run/sous/sdk/plugintest"
)

// Python starts without site (-S), so .pth import lines cost nothing; the runner puts
// the site dirs on sys.path itself. A package installed in the interpreter's
// site-packages (here a venv's), and a directory listed by a .pth file there, still
// import; the .pth file's import line does not run when the harness starts.
func TestSitePackagesImport(t *testing.T) {
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command(testenv.Python(t), "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Skipf("no venv module: %v %s", err, out)
	}
	py := filepath.Join(venv, "bin", "python")
	out, err := exec.Command(py, "-c", "import site; print(site.getsitepackages()[0])").Output()
	if err != nil {
		t.Fatal(err)
	}
	sp, extra := string(out[:len(out)-1]), t.TempDir()
	marker := filepath.Join(t.TempDir(), "pth-import-ran")
	files := map[string]string{
		filepath.Join(sp, "sous_installed.py"): "VALUE = 'installed'\n",
		filepath.Join(extra, "sous_extra.py"):  "VALUE = 'extra'\n",
		filepath.Join(sp, "sous_extra.pth"):    extra + "\nimport os; open(" + pyQuote(marker) + ", 'w').close()\n",
	}
	for p, src := range files {
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := json.Marshal(map[string]any{"python": py, "sandbox": "none"})
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "executor-python"), Config: string(cfg)}, sdk.KindExecutor).Executor
	spec := plugintest.NewFunc("python", "main.py", map[string]string{"main.py": "import sous_installed, sous_extra\n\n" +
		"def handler(event, ctx):\n    return [sous_installed.VALUE, sous_extra.VALUE]\n"}, nil, sdk.Limits{})
	plugintest.Prepare(t, c, spec)
	_ = os.Remove(marker) // finding the interpreter at Configure runs python with site
	res := plugintest.ExecOutput(t, c, spec.Digest, `null`, plugintest.RunOpts{})
	if res.Type != envelope.TypeResult || string(res.Output) != `["installed","extra"]` {
		t.Fatalf("want both site modules imported, got %+v", res)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the .pth import line ran at the harness start")
	}
}

func pyQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
