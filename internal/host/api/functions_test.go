package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/limits"
)

func decodeT[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func TestDeployListPromote(t *testing.T) {
	e := newEnv(t, api.Options{})
	st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq())
	if st != http.StatusCreated {
		t.Fatalf("deploy: %d %s", st, body)
	}
	v1 := decodeT[wire.DeployResponse](t, body)
	if v1.Number != 1 || v1.Alias != "dev" || len(v1.Digest) != 64 || v1.TimeoutMS != limits.DefaultTimeoutMS || v1.MemoryMB != limits.DefaultMemoryMB {
		t.Fatalf("deploy answer %+v", v1)
	}
	// Same content again: no new version, 200 "unchanged, still version 1".
	st, body = e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq())
	if same := decodeT[wire.DeployResponse](t, body); st != http.StatusOK || !same.Unchanged || same.Number != 1 || same.Digest != v1.Digest {
		t.Fatalf("identical deploy: %d %+v", st, same)
	}
	changed := deployReq()
	changed.Vars["GREETING"] = "hello"
	st, body = e.do("POST", "/v1/functions/hello/versions", e.admin, changed)
	if v2 := decodeT[wire.DeployResponse](t, body); st != http.StatusCreated || v2.Number != 2 || v2.Unchanged || v2.Digest == v1.Digest {
		t.Fatalf("second deploy: %d %+v", st, v2)
	}
	st, body = e.do("PUT", "/v1/functions/hello/aliases/prod", e.admin, wire.AliasRequest{Version: 1})
	if st != http.StatusOK {
		t.Fatalf("promote: %d %s", st, body)
	}
	_, body = e.do("GET", "/v1/functions/hello", e.admin, nil)
	fn := decodeT[wire.Function](t, body)
	if fn.Aliases["dev"] != 2 || fn.Aliases["prod"] != 1 || fn.Latest != 2 {
		t.Fatalf("function %+v", fn)
	}
	_, body = e.do("GET", "/v1/functions", e.admin, nil)
	if l := decodeT[wire.FunctionList](t, body); len(l.Functions) != 1 || l.Functions[0].Name != "hello" {
		t.Fatalf("list %s", body)
	}
	_, body = e.do("GET", "/v1/functions/hello/versions", e.admin, nil)
	if vl := decodeT[wire.VersionList](t, body); len(vl.Versions) != 2 || vl.Versions[0].Number != 2 {
		t.Fatalf("versions %s", body)
	}
	// env in the request sets that alias instead of dev.
	req := deployReq()
	req.Env = "staging"
	_, body = e.do("POST", "/v1/functions/hello/versions", e.admin, req)
	_, body = e.do("GET", "/v1/functions/hello", e.admin, nil)
	if fn := decodeT[wire.Function](t, body); fn.Aliases["staging"] != 3 || fn.Aliases["dev"] != 2 {
		t.Fatalf("env alias: %+v", fn)
	}
	// A worker fetches the bundle by digest, for its own tenant or (worker scope) any tenant.
	st, body = e.do("GET", "/v1/bundles/"+v1.Digest, e.token("acme", auth.ScopeWorker), nil)
	if b := decodeT[store.Bundle](t, body); st != 200 || b.Entry != "main.ts" || len(b.Files) != 3 || b.Digest() != v1.Digest {
		t.Fatalf("bundle: %d %s", st, body)
	}
	st, _ = e.do("GET", "/v1/bundles/"+v1.Digest+"?tenant=acme", e.token("infra", auth.ScopeWorker), nil)
	if st != 200 {
		t.Fatalf("cross-tenant worker fetch: %d", st)
	}
}

func TestDeleteIsSoft(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq())
	if st, body := e.do("DELETE", "/v1/functions/hello", e.admin, nil); st != http.StatusNoContent {
		t.Fatalf("delete: %d %s", st, body)
	}
	st, body := e.do("GET", "/v1/functions/hello", e.admin, nil)
	e.expectError(st, body, http.StatusGone, "function_deleted")
	if _, body := e.do("GET", "/v1/functions", e.admin, nil); strings.Contains(string(body), "hello") {
		t.Fatalf("deleted function listed: %s", body)
	}
	st, body = e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq())
	if v := decodeT[wire.DeployResponse](t, body); st != 201 || v.Number != 2 {
		t.Fatalf("redeploy: %d %s", st, body)
	}
}

// TestDeployBadInput sends each kind of bad deploy through the real server and
// checks the status, the error code and that nothing was stored.
func TestDeployBadInput(t *testing.T) {
	e := newEnv(t, api.Options{MaxBundleBytes: 1000, MaxFiles: 5, MaxBodyBytes: 4000})
	mod := func(f func(r *wire.DeployRequest)) *wire.DeployRequest {
		r := deployReq()
		f(r)
		return r
	}
	cases := []struct {
		name   string
		fn     string
		body   any
		status int
		code   string
	}{
		{"invalid json", "hello", []byte(`{"runtime": "bun",`), 400, "invalid_json"},
		{"empty body", "hello", []byte(``), 400, "invalid_json"},
		{"unknown field", "hello", []byte(`{"runtime":"bun","entrypoint":"x"}`), 400, "invalid_json"},
		{"missing runtime", "hello", mod(func(r *wire.DeployRequest) { r.Runtime = "" }), 400, "missing_runtime"},
		{"unknown runtime", "hello", mod(func(r *wire.DeployRequest) { r.Runtime = "ruby" }), 422, "unknown_runtime"},
		{"entry not in bundle", "hello", mod(func(r *wire.DeployRequest) { r.Entry = "index.ts" }), 422, "entry_not_found"},
		{"dotdot path", "hello", mod(func(r *wire.DeployRequest) { r.Files["../x"] = "eA==" }), 400, "invalid_path"},
		{"nested dotdot", "hello", mod(func(r *wire.DeployRequest) { r.Files["lib/../../x"] = "eA==" }), 400, "invalid_path"},
		{"absolute path", "hello", mod(func(r *wire.DeployRequest) { r.Files["/etc/passwd"] = "eA==" }), 400, "invalid_path"},
		{"backslash path", "hello", mod(func(r *wire.DeployRequest) { r.Files[`..\x`] = "eA==" }), 400, "invalid_path"},
		{"bad base64", "hello", mod(func(r *wire.DeployRequest) { r.Files["main.ts"] = "!!" }), 400, "invalid_file"},
		{"bundle over limit", "hello", mod(func(r *wire.DeployRequest) { r.Files = files(3, 400) }), 413, "bundle_too_large"},
		{"too many files", "hello", mod(func(r *wire.DeployRequest) { r.Files = files(6, 1) }), 413, "too_many_files"},
		{"body over limit", "hello", mod(func(r *wire.DeployRequest) { r.Files = files(2, 4000) }), 413, "body_too_large"},
		{"timeout over max", "hello", mod(func(r *wire.DeployRequest) { r.TimeoutMS = 10_000_000 }), 422, "invalid_timeout"},
		{"unknown network", "hello", mod(func(r *wire.DeployRequest) { r.Network = "internet" }), 422, "invalid_network"},
		{"bad var name", "hello", mod(func(r *wire.DeployRequest) { r.Vars = map[string]string{"A-B": "x"} }), 400, "invalid_var"},
		{"bad env", "hello", mod(func(r *wire.DeployRequest) { r.Env = "Prod!" }), 400, "invalid_env"},
		{"invalid name upper", "Hello", deployReq(), 400, "invalid_name"},
		{"invalid name short", "h", deployReq(), 400, "invalid_name"},
		{"invalid name digit", "1abc", deployReq(), 400, "invalid_name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := e.do("POST", "/v1/functions/"+c.fn+"/versions", e.admin, c.body)
			e.expectError(st, body, c.status, c.code)
		})
	}
	fns, err := e.store.ListFunctions("acme")
	if err != nil || len(fns) != 0 {
		t.Fatalf("bad deploys left state: %v %v", fns, err)
	}
	// The server still works after all of it.
	if st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq()); st != 201 {
		t.Fatalf("good deploy after bad ones: %d %s", st, body)
	}
}

// network: host reaches the host's loopback services: a deploy token alone cannot pick it.
func TestHostNetworkNeedsAdmin(t *testing.T) {
	e := newEnv(t, api.Options{})
	req := deployReq()
	req.Network = "host"
	st, body := e.do("POST", "/v1/functions/hello/versions", e.token("acme", auth.ScopeDeploy), req)
	e.expectError(st, body, http.StatusForbidden, "forbidden_network")
	if st, _ := e.do("POST", "/v1/functions/hello/versions", e.admin, req); st != http.StatusCreated {
		t.Fatalf("admin deploy with network host: %d", st)
	}
}
