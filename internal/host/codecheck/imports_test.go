package codecheck

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Imports that resolve (in the bundle, in the runtime, or guarded) pass; the
// first that does not is refused with its file, line, column and a suggestion.
func TestCheckResolvesImports(t *testing.T) {
	c := checker(t)
	for _, tc := range []struct {
		runtime, entry string
		files          map[string]string
		want           string // "" = passes
	}{
		// Python: the standard library, bundle modules, packages, namespace dirs, relative imports.
		{"python", "main.py", map[string]string{"main.py": "import json, os.path\nfrom collections import abc\nimport lib, util\nfrom pkg.sub import thing\nimport ns.mod\n",
			"lib.py": "", "util/__init__.py": "from . import helpers\nfrom .helpers import x\nfrom ..lib import y\n", "util/helpers.py": "",
			"pkg/__init__.py": "", "pkg/sub.py": "", "ns/mod.py": ""}, ""},
		{"python", "src/main.py", map[string]string{"src/main.py": "import sibling\nimport src.sibling\n", "src/sibling.py": ""}, ""},
		// Optional imports are not refused.
		{"python", "main.py", map[string]string{"main.py": "try:\n    import ujson as json\nexcept ImportError:\n    import json\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import nosuchstubs\n"}, ""},
		{"python", "main.py", map[string]string{"main.py": "import json\n\nimport requets\n"}, `main.py:3:1: import "requets" does not resolve (no module in the bundle or the Python runtime)`},
		{"python", "main.py", map[string]string{"main.py": "import jsno\n"}, `main.py:1:1: import "jsno" does not resolve (no module in the bundle or the Python runtime); did you mean "json"?`},
		{"python", "main.py", map[string]string{"main.py": "def handler(i, c):\n    from helpres import f\n", "helpers.py": ""}, `main.py:2:5: import "helpres" does not resolve (no module in the bundle or the Python runtime); did you mean "helpers"?`},
		{"python", "main.py", map[string]string{"main.py": "import lib.missing\n", "lib/__init__.py": ""}, `main.py:1:1: import "lib.missing" does not resolve (no such module in the bundle)`},
		{"python", "main.py", map[string]string{"main.py": "import pkg\n", "pkg/__init__.py": "from .nope import x\n"}, `pkg/__init__.py:1:1: import ".nope" does not resolve`},
		{"python", "main.py", map[string]string{"main.py": "from .. import x\n"}, `main.py:1:1: import ".." does not resolve (it goes above`},
		// The syntax error is reported before any import.
		{"python", "main.py", map[string]string{"main.py": "import requets\n", "b.py": "def (\n"}, "b.py:1:"},

		// Bun: builtins, relative files with Bun's extension rules, node_modules packages.
		{"bun", "index.ts", map[string]string{"index.ts": "import fs from \"fs\";\nimport {x} from \"node:path\";\nimport {Database} from \"bun:sqlite\";\nimport {a} from \"./lib/a.js\";\nimport b from './lib';\nimport c from './c.json';\nimport type {T} from \"./types\";\nimport pkg from \"left-pad\";\nimport s from \"@scope/p/sub\";\nconst d = await import(\"not-installed\");\nexport default () => [fs, x, Database, a, b, pkg, s, d];\n",
			"lib/a.ts": "export const a = 1;\n", "lib/index.tsx": "export default 2;\n", "c.json": "{}",
			"node_modules/left-pad/package.json": "{}", "node_modules/@scope/p/package.json": "{}"}, ""},
		{"bun", "index.ts", map[string]string{"index.ts": "import x from \"./x\";\n\nimport {y} from './helpres';\n", "x.ts": "", "helpers.ts": ""}, `index.ts:3:17: import "./helpres" does not resolve (no file helpres`},
		{"bun", "index.ts", map[string]string{"index.ts": "import z from \"zod\";\n"}, `index.ts:1:15: import "zod" does not resolve (not a Bun or Node builtin, and no package zod in the bundle's node_modules)`},
		{"bun", "index.ts", map[string]string{"index.ts": "import p from \"pth\";\n"}, `; did you mean "path"?`},
		{"bun", "src/index.ts", map[string]string{"src/index.ts": "import u from \"../../up\";\n"}, `import "../../up" does not resolve (it leaves the bundle)`},
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
		case tc.want != "" && (!errors.As(err, &perr) || !strings.Contains(perr.Error(), tc.want)):
			t.Errorf("%s %v:\n got %v\nwant an error containing %q", tc.runtime, tc.files, err, tc.want)
		case perr != nil && strings.Contains(tc.want, "does not resolve") && perr.Kind != KindImport:
			t.Errorf("%s: import error of kind %q", tc.want, perr.Kind)
		}
	}
}
