package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/triggers/schedule"
)

func (s *Server) routeSchedules() {
	s.Route("PUT", "/v1/functions/{name}/schedules/{id}", auth.ScopeDeploy, s.putSchedule)
	s.Route("GET", "/v1/functions/{name}/schedules/{id}", auth.ScopeRead, s.getSchedule)
	s.Route("DELETE", "/v1/functions/{name}/schedules/{id}", auth.ScopeDeploy, s.deleteSchedule)
	s.Route("GET", "/v1/functions/{name}/schedules", auth.ScopeRead, s.listSchedules)
	s.Route("GET", "/v1/schedules", auth.ScopeRead, s.listSchedules)
}

// scheduleRef returns the validated {name} and {id} path values, or writes 400.
func scheduleRef(w http.ResponseWriter, r *http.Request) (name, id string, ok bool) {
	if name, ok = functionName(w, r); !ok {
		return "", "", false
	}
	id = r.PathValue("id")
	if !store.ValidName(id) {
		WriteError(w, r, http.StatusBadRequest, "invalid_id",
			"schedule id "+quote(id)+" must be 2-63 characters of a-z, 0-9 and '-', starting with a letter")
		return "", "", false
	}
	return name, id, true
}

// putSchedule: PUT /v1/functions/{name}/schedules/{id} {cron, input, env, timezone, enabled, catchup}.
func (s *Server) putSchedule(w http.ResponseWriter, r *http.Request) {
	name, id, ok := scheduleRef(w, r)
	if !ok {
		return
	}
	var req wire.ScheduleRequest
	if !DecodeJSON(w, r, &req) {
		return
	}
	sc, ok := s.scheduleFrom(w, r, name, id, &req)
	if !ok {
		return
	}
	got, created, err := s.store.PutSchedule(sc)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	if s.triggers.Wake != nil {
		s.triggers.Wake()
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	WriteJSON(w, code, scheduleView(got))
}

// scheduleFrom checks a schedule request: each bad field is a 400 that names it.
func (s *Server) scheduleFrom(w http.ResponseWriter, r *http.Request, name, id string, req *wire.ScheduleRequest) (*store.Schedule, bool) {
	_, err := schedule.Parse(req.Cron, req.Timezone)
	var fe *schedule.FieldError
	if errors.As(err, &fe) {
		WriteError(w, r, http.StatusBadRequest, "invalid_"+fe.Field, err.Error())
		return nil, false
	}
	sc := &store.Schedule{Tenant: Principal(r.Context()).Tenant, Function: name, ID: id, Cron: req.Cron, Input: req.Input,
		Env: req.Env, Timezone: req.Timezone, Enabled: req.Enabled == nil || *req.Enabled, Catchup: req.Catchup}
	if sc.Env == "" {
		sc.Env = store.DefaultEnv
	}
	if sc.Timezone == "" {
		sc.Timezone = "UTC"
	}
	if sc.Catchup == "" {
		sc.Catchup = schedule.CatchupOne
	}
	if sc.Catchup != schedule.CatchupOne && sc.Catchup != schedule.CatchupNone {
		WriteError(w, r, http.StatusBadRequest, "invalid_catchup", "catchup: "+quote(sc.Catchup)+" is not none or one")
		return nil, false
	}
	if _, err := s.store.ResolveRef(sc.Tenant, name, store.Ref{Env: sc.Env}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			WriteError(w, r, http.StatusBadRequest, "invalid_env", "env: "+err.Error()+"; deploy the function or point the alias first")
			return nil, false
		}
		s.StoreError(w, r, err)
		return nil, false
	}
	return sc, true
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) {
	name, id, ok := scheduleRef(w, r)
	if !ok {
		return
	}
	sc, err := s.store.GetSchedule(Principal(r.Context()).Tenant, name, id)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, scheduleView(sc))
}

func (s *Server) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	name, id, ok := scheduleRef(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteSchedule(Principal(r.Context()).Tenant, name, id); err != nil {
		s.StoreError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listSchedules: GET /v1/functions/{name}/schedules, or GET /v1/schedules for all.
func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) {
	name := ""
	if r.PathValue("name") != "" {
		var ok bool
		if name, ok = functionName(w, r); !ok {
			return
		}
	}
	list, err := s.store.ListSchedules(Principal(r.Context()).Tenant, name)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	out := wire.ScheduleList{Schedules: []*wire.Schedule{}}
	for _, sc := range list {
		out.Schedules = append(out.Schedules, scheduleView(sc))
	}
	WriteJSON(w, http.StatusOK, out)
}

// scheduleView is a stored schedule with its next run.
func scheduleView(sc *store.Schedule) *wire.Schedule {
	v := &wire.Schedule{ID: sc.ID, Function: sc.Function, Cron: sc.Cron, Input: sc.Input, Env: sc.Env, Timezone: sc.Timezone,
		Enabled: sc.Enabled, Catchup: sc.Catchup, LastTick: sc.LastTick, LastInvocation: sc.LastInvocation,
		LastError: sc.LastError, CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt}
	if spec, err := schedule.Parse(sc.Cron, sc.Timezone); err == nil && sc.Enabled {
		next := spec.Next(sc.After)
		if now := time.Now(); next.Before(now) {
			next = spec.Next(now)
		}
		v.NextRun = &next
	}
	return v
}
