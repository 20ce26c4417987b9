package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/store"
)

func TestAuthErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	if st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, deployReq()); st != 201 {
		t.Fatalf("deploy: %d %s", st, body)
	}
	forger, _ := auth.New(auth.Options{HS256Key: "not-the-host-key-0123456789"})
	forged, _ := forger.Issue("evil", "acme", []string{auth.ScopeAdmin}, time.Hour)
	expired, _ := e.auth.Issue("old", "acme", []string{auth.ScopeAdmin}, time.Nanosecond)
	cases := []struct {
		name, method, path, token string
		status                    int
		code                      string
	}{
		{"missing token", "GET", "/v1/functions", "", 401, "unauthorized"},
		{"forged token", "GET", "/v1/functions", forged, 401, "unauthorized"},
		{"garbage token", "GET", "/v1/functions", "abc", 401, "unauthorized"},
		{"read token deploys", "POST", "/v1/functions/hello/versions", e.token("acme", auth.ScopeRead), 403, "forbidden"},
		{"invoke token lists", "GET", "/v1/functions", e.token("acme", auth.ScopeInvoke), 403, "forbidden"},
		{"deploy token reads bundle", "GET", "/v1/bundles/x", e.token("acme", auth.ScopeDeploy), 403, "forbidden"},
		{"other tenant get", "GET", "/v1/functions/hello", e.token("rival", auth.ScopeAdmin), 404, "not_found"},
		{"other tenant versions", "GET", "/v1/functions/hello/versions", e.token("rival", auth.ScopeAdmin), 404, "not_found"},
		{"other tenant delete", "DELETE", "/v1/functions/hello", e.token("rival", auth.ScopeAdmin), 404, "not_found"},
		{"other tenant promote", "PUT", "/v1/functions/hello/aliases/prod", e.token("rival", auth.ScopeAdmin), 404, "not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.method == "PUT" {
				body = wire.AliasRequest{Version: 1}
			}
			st, resp := e.do(c.method, c.path, c.token, body)
			e.expectError(st, resp, c.status, c.code)
		})
	}
	// Expired: exp has one-second granularity, so poll until it is past.
	deadline := time.Now().Add(3 * time.Second)
	for st, _ := e.do("GET", "/v1/functions", expired, nil); st != 401; st, _ = e.do("GET", "/v1/functions", expired, nil) {
		if time.Now().After(deadline) {
			t.Fatalf("expired token still accepted: %d", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The rival tenant's own list is empty and acme's function is untouched.
	_, body := e.do("GET", "/v1/functions", e.token("rival", auth.ScopeRead), nil)
	if l := decodeT[wire.FunctionList](t, body); len(l.Functions) != 0 {
		t.Fatalf("rival sees %s", body)
	}
	if fn, err := e.store.GetFunction("acme", "hello"); err != nil || fn.Deleted() || len(fn.Aliases) != 1 {
		t.Fatalf("acme's function changed: %+v %v", fn, err)
	}
	// A bundle of acme is hidden from a non-worker token of another tenant, even with ?tenant=.
	v, _ := e.store.ResolveRef("acme", "hello", store.Ref{})
	st, resp := e.do("GET", "/v1/bundles/"+v.Digest+"?tenant=acme", e.token("rival", auth.ScopeAdmin), nil)
	e.expectError(st, resp, http.StatusNotFound, "not_found")
}
