package client

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIgnore(t *testing.T) {
	ig := ParseIgnore(append(defaultIgnore, "# comment", "*.log", "!keep.log", "build/", "/secret.txt", "docs/**/*.md", "a?c"))
	cases := map[string]bool{
		"app.log": true, "sub/dir/app.log": true, "keep.log": false,
		"secret.txt": true, "sub/secret.txt": false,
		"docs/x/y/z.md": true, "docs/z.md": true, "README.md": false,
		"abc": true, "abbc": false, "main.ts": false,
	}
	for p, want := range cases {
		if got := ig.Match(p, false); got != want {
			t.Errorf("Match(%q) = %v, want %v", p, got, want)
		}
	}
	if !ig.Match("build", true) || ig.Match("build", false) || !ig.Match("x/build", true) {
		t.Error("dir-only pattern")
	}
	if !ig.Match(".git", true) || !ig.Match(".sous", true) {
		t.Error("default ignores")
	}
}

func write(t *testing.T, dir string, files map[string]string) {
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPackDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"sous.yaml":      "name: hello\nruntime: bun\nentry: main.ts\ntimeout: 2s\nmemory_mb: 64\nvars: {A: b}\n",
		".sousignore":    "*.log\nnode_modules/\n",
		"main.ts":        "export default () => 1",
		"lib/util.ts":    "x",
		"debug.log":      "noise",
		"node_modules/a": "dep",
		".git/HEAD":      "ref",
	})
	m, req, err := PackDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "hello" || req.TimeoutMS != 2000 || req.MemoryMB != 64 || req.Vars["A"] != "b" {
		t.Fatalf("manifest %+v req %+v", m, req)
	}
	if len(req.Files) != 2 || req.Files["lib/util.ts"] != "eA==" || req.Files["main.ts"] == "" {
		t.Fatalf("files %v", req.Files)
	}
	bad := map[string]string{
		"missing entry":  "name: x1\nruntime: bun\n",
		"unknown key":    "name: x1\nruntime: bun\nentry: a\nmemory: 5\n",
		"bad timeout":    "name: x1\nruntime: bun\nentry: a\ntimeout: soon\n",
		"both timeouts":  "name: x1\nruntime: bun\nentry: a\ntimeout: 1s\ntimeout_ms: 5\n",
		"not yaml":       "name: [",
		"empty manifest": "",
	}
	for name, content := range bad {
		d := t.TempDir()
		write(t, d, map[string]string{"sous.yaml": content})
		if _, _, err := PackDir(d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := PackDir(t.TempDir()); err == nil {
		t.Error("directory without sous.yaml accepted")
	}
}

func TestResolveOrder(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Resolve(Settings{DataDir: dir}); err == nil {
		t.Fatal("resolved with nothing configured")
	}
	write(t, dir, map[string]string{"api.addr": "127.0.0.1:1\n", "auth/admin.token": "filetok\n"})
	t.Setenv("SOUS_API", "")
	t.Setenv("SOUS_TOKEN", "")
	if a, tok, _ := Resolve(Settings{DataDir: dir}); a != "127.0.0.1:1" || tok != "filetok" {
		t.Fatalf("files: %q %q", a, tok)
	}
	t.Setenv("SOUS_API", "127.0.0.1:2")
	t.Setenv("SOUS_TOKEN", "envtok")
	if a, tok, _ := Resolve(Settings{DataDir: dir}); a != "127.0.0.1:2" || tok != "envtok" {
		t.Fatalf("env: %q %q", a, tok)
	}
	if a, tok, _ := Resolve(Settings{DataDir: dir, API: "127.0.0.1:3", Token: "flagtok"}); a != "127.0.0.1:3" || tok != "flagtok" {
		t.Fatalf("flags: %q %q", a, tok)
	}
}
