package api

import (
	"errors"
	"net/http"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/triggers/webhook"
)

// CallbackHeader asks an async invoke for a completion webhook.
const CallbackHeader = "Sous-Callback-Url"

// Triggers are what the trigger routes need from the host.
type Triggers struct {
	Policy webhook.Policy // which destinations callbacks may reach (webhooks.allow_cidrs)
	Wake   func()         // tells the scheduler a schedule changed
}

// MountTriggers adds the schedule and webhook-secret routes and turns on callbacks
// (Sous-Callback-Url, on_complete).
func (s *Server) MountTriggers(t Triggers) {
	s.triggers = &t
	s.Route("GET", "/v1/webhooks/secret", auth.ScopeAdmin, s.webhookSecret(false))
	s.Route("POST", "/v1/webhooks/secret/rotate", auth.ScopeAdmin, s.webhookSecret(true))
	s.routeSchedules()
}

// webhookSecret serves GET /v1/webhooks/secret and, with rotate, POST …/rotate.
func (s *Server) webhookSecret(rotate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		get := s.store.WebhookSecret
		if rotate {
			get = s.store.RotateWebhookSecret
		}
		sec, err := get(Principal(r.Context()).Tenant)
		if err != nil {
			s.StoreError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, wire.WebhookSecret{Secret: sec.Secret, CreatedAt: sec.CreatedAt, PreviousUntil: sec.PreviousUntil})
	}
}

// checkCallback refuses a callback URL that is malformed or points where callbacks may
// not go, with a 400 that names the field and the rule.
func (s *Server) checkCallback(w http.ResponseWriter, r *http.Request, field, url string) bool {
	if url == "" {
		return true
	}
	if s.triggers == nil {
		WriteError(w, r, http.StatusBadRequest, "callbacks_disabled", field+": completion webhooks are not enabled on this host")
		return false
	}
	err := s.triggers.Policy.CheckURL(r.Context(), url)
	var refused *webhook.RefusedError
	switch {
	case errors.As(err, &refused):
		WriteError(w, r, http.StatusBadRequest, "callback_refused", field+": "+err.Error())
		return false
	case err != nil:
		WriteError(w, r, http.StatusBadRequest, "invalid_callback", field+": "+err.Error())
		return false
	}
	return true
}

// callbackFor is the completion webhook of an invoke: the Sous-Callback-Url header, else
// the version's on_complete. Only async invokes get one (a caller who waits has the
// result); the header on a sync invoke is a 400.
func (s *Server) callbackFor(w http.ResponseWriter, r *http.Request, tenant, name string, version int, async bool) (string, bool) {
	url := r.Header.Get(CallbackHeader)
	if url != "" && !async {
		WriteError(w, r, http.StatusBadRequest, "invalid_request",
			CallbackHeader+" needs an async invoke: add `Prefer: respond-async` (or ?async=1)")
		return "", false
	}
	if !async || s.triggers == nil && url == "" {
		return "", true
	}
	if url == "" {
		hook, err := s.store.OnComplete(tenant, name, version)
		if err != nil {
			s.StoreError(w, r, err)
			return "", false
		}
		return hook, true
	}
	return url, s.checkCallback(w, r, CallbackHeader, url)
}

// saveOnComplete records a deployed version's on_complete (checked before the deploy).
func (s *Server) saveOnComplete(w http.ResponseWriter, r *http.Request, tenant, name string, version int, url string) bool {
	if url == "" {
		return true
	}
	if err := s.store.SetOnComplete(tenant, name, version, url); err != nil {
		s.StoreError(w, r, err)
		return false
	}
	return true
}
