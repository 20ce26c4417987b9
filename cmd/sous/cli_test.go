package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/testenv"
)

// cliEnv is a working directory whose .sous points the real sous binary at a
// real API server (as the dev host would leave it).
type cliEnv struct {
	t   *testing.T
	bin string
	dir string
	st  *store.Store
}

func newCLIEnv(t *testing.T) *cliEnv {
	bin := testenv.Sous(t)
	dir := t.TempDir()
	data := filepath.Join(dir, client.DefaultDataDir)
	st, err := store.Open(filepath.Join(data, "state"))
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Options{}, st, au, nil).Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	if _, err := auth.WriteAdminToken(au, data, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteAddr(data, srv.URL); err != nil {
		t.Fatal(err)
	}
	return &cliEnv{t: t, bin: bin, dir: dir, st: st}
}

// run runs `sous args...` in the env's directory; it returns stdout and fails on a non-zero exit.
func (e *cliEnv) run(args ...string) string {
	e.t.Helper()
	out, err := e.try(args...)
	if err != nil {
		e.t.Fatalf("sous %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *cliEnv) try(args ...string) (string, error) {
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "SOUS_API=", "SOUS_TOKEN=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return string(out) + stderr.String(), err
}

func TestCLIDeployPromoteRm(t *testing.T) {
	e := newCLIEnv(t)
	fn := filepath.Join(e.dir, "hello")
	os.MkdirAll(filepath.Join(fn, "lib"), 0o755)
	os.WriteFile(filepath.Join(fn, "sous.yaml"), []byte("name: hello\nruntime: python\nentry: main.py\ntimeout: 5s\n"), 0o644)
	os.WriteFile(filepath.Join(fn, "main.py"), []byte("def handler(e, c): return 1\n"), 0o644)
	os.WriteFile(filepath.Join(fn, "lib", "x.py"), []byte("X = 1\n"), 0o644)
	os.WriteFile(filepath.Join(fn, "notes.tmp"), []byte("scratch"), 0o644)
	os.WriteFile(filepath.Join(fn, ".sousignore"), []byte("*.tmp\n"), 0o644)

	var v wire.DeployResponse
	if err := json.Unmarshal([]byte(e.run("deploy", "hello", "--output", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Number != 1 || v.Files != 2 || v.TimeoutMS != 5000 || v.Alias != "dev" {
		t.Fatalf("deploy: %+v", v)
	}
	if out := e.run("deploy", "hello"); !strings.Contains(out, "hello unchanged, still version 1") || !strings.Contains(out, v.Digest) {
		t.Fatalf("identical deploy: %s", out)
	}
	os.WriteFile(filepath.Join(fn, "lib", "x.py"), []byte("X = 2\n"), 0o644)
	if out := e.run("deploy", "hello"); !strings.Contains(out, "deployed hello version 2") || strings.Contains(out, v.Digest) {
		t.Fatalf("deploy table: %s", out)
	}
	if out := e.run("promote", "hello", "--version", "1"); !strings.Contains(out, "hello prod -> version 1") {
		t.Fatalf("promote: %s", out)
	}
	out := e.run("ls")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "dev=2 prod=1") {
		t.Fatalf("ls: %s", out)
	}
	out = e.run("versions", "hello")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[2], "prod") {
		t.Fatalf("versions: %s", out)
	}
	e.run("promote", "hello", "--from", "dev", "--to", "staging")
	if f, _ := e.st.GetFunction(auth.DefaultTenant, "hello"); f.Aliases["staging"] != 2 {
		t.Fatalf("promote --from dev: %+v", f.Aliases)
	}
	e.run("rm", "hello")
	if out, err := e.try("versions", "hello"); err == nil || !strings.Contains(out, "deleted") {
		t.Fatalf("versions after rm: %v %s", err, out)
	}
	if out, err := e.try("deploy", "nowhere"); err == nil || !strings.Contains(out, "sous.yaml") {
		t.Fatalf("deploy of missing dir: %v %s", err, out)
	}
	if out, err := e.try("ls", "--output", "xml"); err == nil || !strings.Contains(out, "table or json") {
		t.Fatalf("bad --output: %v %s", err, out)
	}
}

func TestCLITokenCreate(t *testing.T) {
	e := newCLIEnv(t)
	out := e.run("token", "create", "--tenant", "acme", "--scopes", "read invoke", "--ttl", "1h")
	tok, note, _ := strings.Cut(out, "\n")
	if !strings.Contains(note, "signed with the HS256 key from file .sous/auth/hs256.key") {
		t.Errorf("token create does not say which key it used: %q", out)
	}
	// The token is signed with the data dir's key: the API accepts it for reads of tenant acme.
	c := client.New(strings.TrimSpace(readFile(t, filepath.Join(e.dir, ".sous", "api.addr"))), tok)
	if _, err := c.ListFunctions(t.Context()); err != nil {
		t.Fatalf("token rejected: %v", err)
	}
	if _, err := c.Deploy(t.Context(), "nope", &wire.DeployRequest{}); err == nil || !strings.Contains(err.Error(), "deploy scope") {
		t.Fatalf("read token deployed: %v", err)
	}
	if out, err := e.try("token", "create", "--scopes", "root"); err == nil || !strings.Contains(out, "unknown scope") {
		t.Fatalf("bad scope: %v %s", err, out)
	}
}

func readFile(t *testing.T, p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
