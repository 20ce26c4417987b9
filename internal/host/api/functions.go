package api

import (
	"net/http"
	"strings"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/store"
)

func (s *Server) routeFunctions() {
	s.Route("POST", "/v1/functions/{name}/versions", auth.ScopeDeploy, s.deploy)
	s.Route("GET", "/v1/functions", auth.ScopeRead, s.listFunctions)
	s.Route("GET", "/v1/functions/{name}", auth.ScopeRead, s.getFunction)
	s.Route("DELETE", "/v1/functions/{name}", auth.ScopeDeploy, s.deleteFunction)
	s.Route("GET", "/v1/functions/{name}/versions", auth.ScopeRead, s.listVersions)
	s.Route("PUT", "/v1/functions/{name}/aliases/{alias}", auth.ScopeDeploy, s.setAlias)
	s.Route("GET", "/v1/bundles/{digest}", auth.ScopeWorker, s.getBundle)
	s.routeDeployed()
}

// functionName returns the validated {name} path value, or writes 400.
func functionName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !store.ValidName(name) {
		WriteError(w, r, http.StatusBadRequest, "invalid_name",
			"function name "+quote(name)+" must be 2-63 characters of a-z, 0-9 and '-', starting with a letter")
		return "", false
	}
	return name, true
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func (s *Server) deploy(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(w, r)
	if !ok {
		return
	}
	var req wire.DeployRequest
	if !DecodeJSON(w, r, &req) {
		return
	}
	alias := req.Env
	if alias == "" {
		alias = store.DefaultEnv
	}
	if !store.ValidName(alias) {
		WriteError(w, r, http.StatusBadRequest, "invalid_env", "env "+quote(alias)+" must match [a-z][a-z0-9-]{1,62}")
		return
	}
	b, e := s.bundleFrom(&req)
	if e != nil {
		WriteError(w, r, e.status, e.code, e.message)
		return
	}
	// network: host puts the function on the host's loopback (Redis, the broker, this
	// API): only an operator's admin token may choose it.
	if b.Network == "host" && !Principal(r.Context()).Has(auth.ScopeAdmin) {
		WriteError(w, r, http.StatusForbidden, "forbidden_network",
			"network host trusts the function with the host's network; deploying it needs a token with the admin scope (use none or outbound)")
		return
	}
	if e := s.checkSource(r.Context(), name, b); e != nil {
		WriteError(w, r, e.status, e.code, e.message)
		return
	}
	if !s.checkCallback(w, r, "on_complete", req.OnComplete) {
		return
	}
	v, created, err := s.store.DeployVersion(Principal(r.Context()).Tenant, name, b, alias)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	if !s.saveOnComplete(w, r, Principal(r.Context()).Tenant, name, v.Number, req.OnComplete) {
		return
	}
	w.Header().Set("Location", "/v1/functions/"+name)
	if !created {
		WriteJSON(w, http.StatusOK, wire.DeployResponse{Version: *VersionView(v), Alias: alias, Unchanged: true})
		return
	}
	s.metrics.deploys.Inc()
	s.log.Info("deployed", "tenant", Principal(r.Context()).Tenant, "function", name, "version", v.Number, "digest", v.Digest)
	WriteJSON(w, http.StatusCreated, wire.DeployResponse{Version: *VersionView(v), Alias: alias})
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) {
	fns, err := s.store.ListFunctions(Principal(r.Context()).Tenant)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.FunctionList{Functions: functionViews(fns)})
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(w, r)
	if !ok {
		return
	}
	fn, err := s.store.GetFunction(Principal(r.Context()).Tenant, name)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, functionView(fn))
}

func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteFunction(Principal(r.Context()).Tenant, name); err != nil {
		s.StoreError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(w, r)
	if !ok {
		return
	}
	vs, err := s.store.ListVersions(Principal(r.Context()).Tenant, name)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.VersionList{Versions: views(vs, VersionView)})
}

func (s *Server) setAlias(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(w, r)
	if !ok {
		return
	}
	alias := r.PathValue("alias")
	if !store.ValidName(alias) {
		WriteError(w, r, http.StatusBadRequest, "invalid_alias", "alias "+quote(alias)+" must match [a-z][a-z0-9-]{1,62}")
		return
	}
	var req wire.AliasRequest
	if !DecodeJSON(w, r, &req) {
		return
	}
	if req.Version < 1 {
		WriteError(w, r, http.StatusBadRequest, "invalid_version", `send {"version": N} with N >= 1`)
		return
	}
	fn, err := s.store.SetAlias(Principal(r.Context()).Tenant, name, alias, req.Version)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, functionView(fn))
}

// getBundle serves a bundle to a worker. A token whose own scopes include
// "worker" (workers run every tenant's code) may name another tenant with
// ?tenant=; any other token reads its own tenant.
func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) {
	p := Principal(r.Context())
	tenant := p.Tenant
	if t := r.URL.Query().Get("tenant"); t != "" && t != tenant {
		if !hasExplicit(p, auth.ScopeWorker) {
			WriteError(w, r, http.StatusNotFound, "not_found", "bundle "+r.PathValue("digest")+": not found")
			return
		}
		tenant = t
	}
	b, err := s.store.GetBundle(tenant, r.PathValue("digest"))
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+r.PathValue("digest")+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	WriteJSON(w, http.StatusOK, bundleView(b))
}

func hasExplicit(p *auth.Principal, scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}
