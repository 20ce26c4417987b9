package codecheck

import "context"

// pythonScript compiles each file (compile parses and checks, it never runs
// the code) and prints the first SyntaxError as JSON; then checks each static
// import (see pythonImports). Python's offsets count from 1.
const pythonScript = `
import json, sys
req = json.load(sys.stdin)
def report(path, line, col, msg, kind=""):
    print(json.dumps({"file": path, "line": line, "column": col, "message": msg, "kind": kind}))
    sys.exit(0)
for f in req["files"]:
    try:
        compile(f["source"], f["path"], "exec", dont_inherit=True)
    except SyntaxError as e:
        report(f["path"], e.lineno or 0, e.offset or 0, e.msg)
    except ValueError as e:
        report(f["path"], 0, 0, str(e))
` + pythonImports

func checkPython(ctx context.Context, bin string, req request) (*Error, error) {
	// -I: neither the bundle nor the environment is on sys.path, so find_spec
	// sees only what the interpreter itself has installed.
	return runParser(ctx, bin, []string{"-I", "-c", pythonScript}, req)
}
