package harness

import (
	"os"
	"path/filepath"
	"testing"
)

// A temp dir is handed to the next invocation only when the function left it an empty
// 0700 directory; anything else is replaced.
func TestEmptyPrivateDir(t *testing.T) {
	parent := t.TempDir()
	mk := func() string {
		d, err := os.MkdirTemp(parent, "inv-")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := mk(); !emptyPrivateDir(d) {
		t.Fatalf("a new temp dir %s is not reusable", d)
	}
	withFile := mk()
	if err := os.WriteFile(filepath.Join(withFile, ".hidden"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	widened := mk()
	if err := os.Chmod(widened, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(parent, "link")
	if err := os.Symlink(mk(), link); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]string{"with a file": withFile, "mode 0755": widened, "a symlink": link,
		"gone": filepath.Join(parent, "missing")} {
		if emptyPrivateDir(d) {
			t.Errorf("temp dir %s (%s) would be reused", d, name)
		}
	}
}
