package codecheck

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
)

func checker(t *testing.T) *Checker {
	bun, py := testenv.Bun(t), testenv.Python(t)
	return New(map[string]func() (string, error){
		"bun":    func() (string, error) { return bun, nil },
		"python": func() (string, error) { return py, nil },
	}, nil)
}

func TestCheckFindsSyntaxErrors(t *testing.T) {
	c := checker(t)
	for _, tc := range []struct {
		runtime, entry string
		files          map[string]string
		want           string // "" = parses
	}{
		{"python", "main.py", map[string]string{"main.py": "def handler(i, c):\n    return {'a': 1}\n"}, ""},
		{"python", "main.py", map[string]string{"main.py": "def handler(i, c):\n    return {'a': 1\n", "lib/x.py": "X = 1\n"}, "main.py:2:12: "},
		{"python", "main.py", map[string]string{"main.py": "import lib\n", "lib/x.py": "def f(:\n  pass\n", "data.txt": "not code ("}, "lib/x.py:1:7: "},
		{"bun", "main.ts", map[string]string{"main.ts": "export default (i: any) => ({a: 1});\n", "x.js": "export const y = 2;\n"}, ""},
		{"bun", "main.ts", map[string]string{"main.ts": "export default function (x) {\n  return {a: 1,,};\n}\n"}, "main.ts:2:16: "},
		{"bun", "index.js", map[string]string{"index.js": "export default () => 1;\n", "util.tsx": "export const A = () => <div>;\n"}, "util.tsx:"},
	} {
		files := map[string][]byte{}
		for p, s := range tc.files {
			files[p] = []byte(s)
		}
		err := c.Check(context.Background(), tc.runtime, tc.entry, files)
		var perr *Error
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v: %v", tc.runtime, tc.files, err)
		case tc.want != "" && (!errors.As(err, &perr) || !strings.HasPrefix(perr.Error(), tc.want)):
			t.Errorf("%s %v: got %v, want an error starting %q", tc.runtime, tc.files, err, tc.want)
		}
	}
}

func TestCheckSkipsMissingRuntime(t *testing.T) {
	var noted []string
	c := New(map[string]func() (string, error){"bun": func() (string, error) { return "", errors.New("bun not found") }},
		func(rt string, err error) { noted = append(noted, rt+": "+err.Error()) })
	for range 2 {
		if err := c.Check(context.Background(), "bun", "a.ts", map[string][]byte{"a.ts": []byte("(((")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Check(context.Background(), "ruby", "a.rb", map[string][]byte{"a.rb": []byte("end end")}); err != nil {
		t.Fatal(err)
	}
	if len(noted) != 1 || noted[0] != "bun: bun not found" {
		t.Fatalf("notes %v", noted)
	}
}
