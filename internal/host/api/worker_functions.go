package api

import (
	"net/http"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/invocation"
)

// DeployedPath lists every deployed function of every tenant (worker scope): a worker
// polls it to keep its messaging commands current as functions are deployed.
const DeployedPath = "/v1/worker/functions"

func (s *Server) routeDeployed() {
	s.Route("GET", DeployedPath, auth.ScopeWorker, s.listDeployed)
}

func (s *Server) listDeployed(w http.ResponseWriter, r *http.Request) {
	if !hasExplicit(Principal(r.Context()), auth.ScopeWorker) {
		WriteError(w, r, http.StatusForbidden, "forbidden", "listing every tenant's functions needs a token with the worker scope")
		return
	}
	fns, err := s.store.DeployedFunctions()
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	out := make([]invocation.FunctionRef, len(fns))
	for i, f := range fns {
		out[i] = invocation.FunctionRef{Tenant: f.Tenant, Name: f.Name}
	}
	WriteJSON(w, http.StatusOK, wire.DeployedList{Functions: out})
}
