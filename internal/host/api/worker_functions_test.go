package api_test

import (
	"encoding/json"
	"testing"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/invocation"
)

// TestDeployedFunctionsForWorkers: GET /v1/worker/functions lists every tenant's deployed
// functions to a worker-scope token, and to nobody else.
func TestDeployedFunctionsForWorkers(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, tenant := range []string{"acme", "rival"} {
		if st, body := e.do("POST", "/v1/functions/hello/versions", e.token(tenant, auth.ScopeDeploy), deployReq()); st != 201 && st != 200 {
			t.Fatalf("deploy for %s: %d %s", tenant, st, body)
		}
	}
	e.do("POST", "/v1/functions/gone/versions", e.token("acme", auth.ScopeDeploy), deployReq())
	e.do("DELETE", "/v1/functions/gone", e.token("acme", auth.ScopeDeploy), nil)
	st, body := e.do("GET", api.DeployedPath, e.token("infra", auth.ScopeWorker), nil)
	var out struct{ Functions []invocation.FunctionRef }
	if err := json.Unmarshal(body, &out); st != 200 || err != nil {
		t.Fatalf("list deployed: %d %s", st, body)
	}
	// A function deleted just now is still listed: its queued invocations drain.
	want := []invocation.FunctionRef{{Tenant: "acme", Name: "gone"}, {Tenant: "acme", Name: "hello"}, {Tenant: "rival", Name: "hello"}}
	if len(out.Functions) != 3 || out.Functions[0] != want[0] || out.Functions[1] != want[1] || out.Functions[2] != want[2] {
		t.Fatalf("deployed functions %+v, want %+v", out.Functions, want)
	}
	if st, _ := e.do("GET", api.DeployedPath, e.token("acme", auth.ScopeAdmin), nil); st != 403 {
		t.Fatalf("an admin token of one tenant listed every tenant's functions: %d", st)
	}
}
