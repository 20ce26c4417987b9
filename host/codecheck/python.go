package codecheck

import "context"

// pythonScript compiles each file (compile parses and checks, it never runs
// the code) and prints the first SyntaxError as JSON. Python's offset counts from 1.
const pythonScript = `
import json, sys
for f in json.load(sys.stdin):
    try:
        compile(f["source"], f["path"], "exec", dont_inherit=True)
    except SyntaxError as e:
        print(json.dumps({"file": f["path"], "line": e.lineno or 0, "column": e.offset or 0, "message": e.msg}))
        break
    except ValueError as e:
        print(json.dumps({"file": f["path"], "line": 0, "column": 0, "message": str(e)}))
        break
`

func checkPython(ctx context.Context, bin string, files []file) (*Error, error) {
	return runParser(ctx, bin, []string{"-I", "-S", "-c", pythonScript}, files)
}
