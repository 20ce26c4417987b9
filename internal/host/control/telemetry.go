package control

import (
	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/telemetry"
)

// observeFinal counts a record that just reached its final status, labelled with the
// runtime of its version ("unknown" when the version is gone).
func (s *Service) observeFinal(rec *store.Invocation) {
	runtime := "unknown"
	if v, err := s.store.GetVersion(rec.Tenant, rec.Function, rec.Version); err == nil {
		runtime = v.Runtime
	}
	kind := ""
	if rec.Error != nil {
		kind = rec.Error.Kind
	}
	telemetry.InvocationFinished(runtime, string(rec.Status), kind)
}

// logFor is the control role's logger with the fields of rec's invocation.
func (s *Service) logFor(rec *store.Invocation) hclog.Logger {
	return s.log.With(telemetry.InvocationFields(rec.ID, rec.Tenant, rec.Function)...)
}

// reapAction names what the reaper does with a stale record given messaging's answer.
func reapAction(out *invocation.Outcome) string {
	if out == nil {
		return telemetry.ReapTimedOut
	}
	return telemetry.ReapFinalized
}
