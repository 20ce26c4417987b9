package api_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/store"
)

const helperEnv = "SOUS_API_TEST_SERVE_DIR"

// TestServeHelper is not a test: run by TestDeploySurvivesSIGKILL as a child
// process, it serves the API on a loopback port over <dir>/state and writes
// the address to <dir>/api.addr, then blocks until killed.
func TestServeHelper(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.WriteAdminToken(au, dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteAddr(dir, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	_ = api.New(api.Options{}, st, au, nil).Serve(context.Background(), ln)
}

// TestDeploySurvivesSIGKILL deploys to a server in another process, kills it
// with SIGKILL right after the 201, and finds the version in the reopened store.
func TestDeploySurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeHelper$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var addr, token string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if addr, token, err = client.Resolve(client.Settings{DataDir: dir}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := client.New(addr, token)
	v, err := c.Deploy(context.Background(), "durable", deployReq())
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("server still answering after SIGKILL")
	}
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.ResolveRef(auth.DefaultTenant, "durable", store.Ref{})
	if err != nil || got.Number != v.Number || got.Digest != v.Digest {
		t.Fatalf("after SIGKILL: %+v %v (deployed %+v)", got, err, v)
	}
	var b *store.Bundle
	if b, err = st.GetBundle(auth.DefaultTenant, v.Digest); err != nil || b.Digest() != v.Digest {
		t.Fatalf("bundle after SIGKILL: %v", err)
	}
}
