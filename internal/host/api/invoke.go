package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/control"
	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

// MountInvocations adds the invocation endpoints, served by the control role c.
func (s *Server) MountInvocations(c *control.Service) {
	s.control = c
	s.Route("POST", "/v1/functions/{name}/invoke", auth.ScopeInvoke, s.invoke)
	s.Route("GET", "/v1/invocations", auth.ScopeRead, s.listInvocations)
	s.Route("GET", "/v1/invocations/{id}", auth.ScopeRead, s.getInvocation)
	s.Route("GET", "/v1/invocations/{id}/events", auth.ScopeRead, s.invocationEvents)
}

// invoke: POST /v1/functions/{name}/invoke?env=|version=  body = input JSON.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(w, r)
	if !ok {
		return
	}
	p := Principal(r.Context())
	q := r.URL.Query()
	ref, err := store.ParseRef(q.Get("env"), q.Get("version"))
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	ver, err := s.store.ResolveRef(p.Tenant, name, ref)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	input, ok := s.readInput(w, r)
	if !ok {
		return
	}
	env, ok := s.resolvedEnv(w, r, p.Tenant, name, ref)
	if !ok {
		return
	}
	async := wantsAsync(r)
	callback, ok := s.callbackFor(w, r, p.Tenant, name, ver.Number, async)
	if !ok {
		return
	}
	req := control.Request{Async: async, SyncLater: !async, IdempotencyKey: r.Header.Get("Idempotency-Key"), CallbackURL: callback, Task: invocation.Task{
		Tenant: p.Tenant, Function: name, Version: ver.Number, Digest: ver.Digest, Runtime: ver.Runtime,
		Env: env, Input: input, TimeoutMS: int64(ver.TimeoutMS),
	}}
	sub, err := s.control.Submit(r.Context(), req)
	if errors.Is(err, store.ErrDiskFull) || errors.Is(err, store.ErrUnavailable) {
		s.StoreError(w, r, err)
		return
	}
	if err != nil {
		s.log.Warn("submit invocation", "tenant", p.Tenant, "function", name, "error", err)
		WriteError(w, r, http.StatusServiceUnavailable, "unavailable", "could not queue the invocation: "+err.Error())
		return
	}
	rec, existing := sub.Record, sub.Existing
	w.Header().Set("Sous-Invocation-Id", rec.ID)
	if existing {
		w.Header().Set("Sous-Idempotent-Replay", "true")
	}
	if async {
		WriteJSON(w, http.StatusAccepted, wire.AsyncResponse{InvocationID: rec.ID, Status: rec.Status,
			StatusURL: "/v1/invocations/" + rec.ID, EventsURL: "/v1/invocations/" + rec.ID + "/events"})
		return
	}
	if existing && rec.Status.Final() {
		s.replay(w, r, rec, "", true)
		return
	}
	ctx, relay, finish := s.relayFor(w, r, rec)
	if sub.Inline {
		task := req.Task
		task.InvocationID = rec.ID
		err = s.control.RunInline(ctx, rec, &task, relay)
	} else {
		err = s.control.Follow(ctx, rec, "", relay)
	}
	finish(err)
}

// resolvedEnv is the environment an invocation runs in: the alias asked for (dev by
// default). With ?version=N and ?env=E together, E must point at N — otherwise a caller
// could run any version as dev and read its debug logs. A bare ?version=N runs with
// no environment (no logs).
func (s *Server) resolvedEnv(w http.ResponseWriter, r *http.Request, tenant, name string, ref store.Ref) (string, bool) {
	if ref.Version == 0 {
		if ref.Env == "" {
			return store.DefaultEnv, true
		}
		return ref.Env, true
	}
	if ref.Env == "" {
		return "", true
	}
	fn, err := s.store.GetFunction(tenant, name)
	if err != nil {
		s.StoreError(w, r, err)
		return "", false
	}
	if n, ok := fn.Aliases[ref.Env]; !ok || n != ref.Version {
		WriteError(w, r, http.StatusBadRequest, "invalid_request", fmt.Sprintf(
			"env %q does not point at version %d; give ?version=%d alone, or ?env=%s alone", ref.Env, ref.Version, ref.Version, ref.Env))
		return "", false
	}
	return ref.Env, true
}

// relayFor returns the handler that passes events to this caller (SSE or the buffered
// JSON body) and the function that ends the response. SSE events are flushed when the
// relay has passed every event ready so far (control.WithFlush, in the returned ctx, for
// Follow and RunInline): events that arrive together go out in one write. The headers
// wait for done or sseHeaderWait (see sse). The last events are not flushed by finish:
// the handler returns right after it, and net/http sends them with the stream's end in
// one write (the client wakes once: for a short run, headers and all).
func (s *Server) relayFor(w http.ResponseWriter, r *http.Request, rec *store.Invocation) (context.Context, control.Handler, func(error)) {
	if wantsSSE(r) {
		out := newSSE(w, rec.ID, func() {
			if s.control != nil {
				s.control.Settle(rec.ID)
			}
		})
		return control.WithFlush(r.Context(), out.flush),
			func(id string, e *envelope.Envelope, raw []byte) error { return out.send(id, e, raw) },
			func(err error) {
				if err != nil && r.Context().Err() == nil {
					out.comment("lost the invocation's event stream: " + err.Error() + "; reconnect with Last-Event-ID")
				}
				out.end()
			}
	}
	// The JSON body carries no event ids: the run's last events may come before the
	// shared event log has given them ids (events.WithoutIDs).
	acc := newAccumulator(rec.ID, rec.Env)
	return events.WithoutIDs(r.Context()), func(_ string, e *envelope.Envelope, _ []byte) error { acc.add(e); return nil },
		func(err error) {
			if err != nil && r.Context().Err() == nil {
				WriteError(w, r, http.StatusBadGateway, "events_unavailable", "lost the invocation's event stream: "+err.Error()+"; GET /v1/invocations/"+rec.ID+" has its outcome")
				return
			}
			if acc.res.Error != nil {
				w.Header().Set("Sous-Function-Error", acc.res.Error.Kind)
			}
			WriteJSON(w, acc.httpStatus(), &acc.res)
		}
}

// replay answers with the events stored now. For a final record whose log no longer
// holds done (expired, or inline), complete it from the record's outcome.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, rec *store.Invocation, afterID string, complete bool) {
	_, relay, finish := s.relayFor(w, r, rec)
	sawDone := false
	err := s.control.Replay(r.Context(), rec, afterID, func(id string, e *envelope.Envelope, raw []byte) error {
		sawDone = sawDone || e.Type == envelope.TypeDone
		return relay(id, e, raw)
	})
	if err == nil && !sawDone && complete {
		err = control.SendOutcome(rec, relay)
	}
	finish(err)
}

// getInvocation: GET /v1/invocations/{id}.
func (s *Server) getInvocation(w http.ResponseWriter, r *http.Request) {
	rec, err := s.control.Get(r.Context(), Principal(r.Context()).Tenant, r.PathValue("id"))
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, invocationView(rec))
}

// invocationEvents: GET /v1/invocations/{id}/events — replay, then live until done.
// Resumes after Last-Event-ID (or ?after=).
func (s *Server) invocationEvents(w http.ResponseWriter, r *http.Request) {
	rec, err := s.control.Get(r.Context(), Principal(r.Context()).Tenant, r.PathValue("id"))
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	after := r.Header.Get("Last-Event-ID")
	if a := r.URL.Query().Get("after"); a != "" {
		after = a
	}
	if err := s.control.CheckAfter(r.Context(), rec, after); err != nil {
		if errors.Is(err, events.ErrBadEventID) {
			WriteError(w, r, http.StatusBadRequest, "invalid_request", fmt.Sprintf(
				"Last-Event-ID (or ?after=) %q is not an event id of invocation %s: %v; send an id from this stream, or none to start over", after, rec.ID, err))
			return
		}
		WriteError(w, r, http.StatusBadGateway, "events_unavailable", "cannot read the invocation's events: "+err.Error())
		return
	}
	if rec.Status.Final() {
		s.replay(w, r, rec, after, true)
		return
	}
	if f := r.URL.Query().Get("follow"); f == "0" || f == "false" {
		s.replay(w, r, rec, after, false)
		return
	}
	ctx, relay, finish := s.relayFor(w, r, rec)
	finish(s.control.Follow(ctx, rec, after, relay))
}

// listInvocations: GET /v1/invocations?function=&status=&limit=.
func (s *Server) listInvocations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.InvocationFilter{Function: q.Get("function"), Status: invocation.Status(q.Get("status"))}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			WriteError(w, r, http.StatusBadRequest, "invalid_request", "limit must be a positive integer, got "+strconv.Quote(l))
			return
		}
		f.Limit = n
	}
	list, err := s.store.ListInvocations(Principal(r.Context()).Tenant, f)
	if err != nil {
		s.StoreError(w, r, err)
		return
	}
	for _, rec := range list { // the answer names them: each on disk first
		if !rec.Status.Final() {
			s.control.Settle(rec.ID)
		}
	}
	WriteJSON(w, http.StatusOK, wire.InvocationList{Invocations: views(list, invocationView)})
}
