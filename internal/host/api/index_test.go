package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/codecheck"
)

func TestRootIsAnIndex(t *testing.T) {
	e := newEnv(t, api.Options{})
	st, body := e.do("GET", "/", "", nil)
	idx := decodeT[api.Index](t, body)
	if st != http.StatusOK || len(idx.Routes) < 10 || !strings.Contains(string(body), "/v1/functions/{name}/invoke") {
		t.Fatalf("GET /: %d %s", st, body)
	}
	if st, _ := e.do("GET", "/nope", "", nil); st != http.StatusNotFound {
		t.Fatalf("GET /nope: %d", st)
	}
}

func TestDeployRefusesSourceThatDoesNotParse(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.api.SetSourceCheck(func(_ context.Context, runtime, entry string, files map[string][]byte) error {
		switch string(files[entry]) {
		case "syntax error":
			return &codecheck.Error{File: entry, Line: 2, Column: 5, Message: "Unexpected token"}
		case "bad import":
			return &codecheck.Error{File: entry, Line: 1, Column: 15, Message: `import "zod" does not resolve`, Kind: codecheck.KindImport}
		}
		return nil
	})
	req := deployReq()
	req.Files["main.ts"] = "c3ludGF4IGVycm9y" // "syntax error"
	st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, req)
	if st != http.StatusUnprocessableEntity || !strings.Contains(string(body), "syntax_error") || !strings.Contains(string(body), "main.ts:2:5: Unexpected token") {
		t.Fatalf("deploy of broken code: %d %s", st, body)
	}
	req.Files["main.ts"] = "YmFkIGltcG9ydA==" // "bad import"
	st, body = e.do("POST", "/v1/functions/hello/versions", e.admin, req)
	if st != http.StatusUnprocessableEntity || !strings.Contains(string(body), "import_error") || !strings.Contains(string(body), `main.ts:1:15: import \"zod\" does not resolve`) {
		t.Fatalf("deploy of an unresolved import: %d %s", st, body)
	}
	if st, _ := e.do("GET", "/v1/functions/hello", e.admin, nil); st != http.StatusNotFound {
		t.Fatalf("a refused deploy created the function: %d", st)
	}
	if st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq()); st != http.StatusCreated {
		t.Fatalf("deploy of good code: %d %s", st, body)
	}
}
