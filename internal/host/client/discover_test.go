package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindDataDirWalksUpThenAsksTheRecord(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("SOUS_API", "")
	t.Setenv("SOUS_TOKEN", "")
	root := t.TempDir()
	deep := filepath.Join(root, "fns", "greet", "lib")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := FindDataDir(deep); got != "" {
		t.Fatalf("found %q with no host anywhere", got)
	}
	// A .sous without api.addr (a stopped host) is passed over.
	write(t, root, map[string]string{"fns/.sous/state/x": "", ".sous/api.addr": "127.0.0.1:1\n", ".sous/auth/admin.token": "tok\n"})
	if got := FindDataDir(deep); got != filepath.Join(root, ".sous") {
		t.Fatalf("walk up found %q", got)
	}
	t.Chdir(deep)
	if a, tok, err := Resolve(Settings{}); err != nil || a != "127.0.0.1:1" || tok != "tok" {
		t.Fatalf("Resolve from a function's directory: %q %q %v", a, tok, err)
	}
	// Elsewhere: the per-user record of `sous dev`, while its host runs.
	elsewhere := t.TempDir()
	if got := FindDataDir(elsewhere); got != "" {
		t.Fatalf("found %q before any record", got)
	}
	if err := RecordDevHost(filepath.Join(root, ".sous")); err != nil {
		t.Fatal(err)
	}
	if got := FindDataDir(elsewhere); got != filepath.Join(root, ".sous") {
		t.Fatalf("record: found %q", got)
	}
	os.Remove(AddrFile(filepath.Join(root, ".sous"))) // the host stopped
	if got := FindDataDir(elsewhere); got != "" {
		t.Fatalf("found %q after the host stopped", got)
	}
	t.Chdir(elsewhere)
	_, _, err := Resolve(Settings{})
	for _, want := range []string{"--api", "SOUS_TOKEN", "--data-dir", "make run"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no-host error %v does not name %s", err, want)
		}
	}
	ForgetDevHost(filepath.Join(root, ".sous"))
	if _, err := os.Stat(DevHostRecord()); !os.IsNotExist(err) {
		t.Fatalf("record not forgotten: %v", err)
	}
}
