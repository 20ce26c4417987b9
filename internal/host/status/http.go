package status

import (
	"context"
	"net/http"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/telemetry"
	"github.com/sous-run/sous/sdk"
)

// Paths of the admin endpoints.
const (
	StatusPath    = "/v1/admin/status"
	HeartbeatPath = "/v1/admin/heartbeat"
)

// Service answers the admin endpoints of a control role.
type Service struct {
	Self     *Self
	Board    *Board
	Msg      sdk.Messaging
	Commands func() []string // the queues to report (one per deployed function)
}

// Mount adds GET /v1/admin/status (admin scope) and POST /v1/admin/heartbeat (worker
// scope) to the API.
func (s *Service) Mount(a *api.Server) {
	a.Route("GET", StatusPath, "admin", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, s.Report(r.Context()))
	})
	a.Route("POST", HeartbeatPath, "worker", func(w http.ResponseWriter, r *http.Request) {
		var p Process
		if !api.DecodeJSON(w, r, &p) {
			return
		}
		if p.ID == "" {
			api.WriteError(w, r, http.StatusBadRequest, "invalid_heartbeat", "heartbeat: id is required (the worker's worker.id)")
			return
		}
		s.Board.Put(p)
		w.WriteHeader(http.StatusNoContent)
	})
}

// Report builds the status of the deployment as this control role sees it.
func (s *Service) Report(ctx context.Context) *Report {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rep := &Report{GeneratedAt: time.Now().UTC(), Processes: append([]Process{s.Self.Report(ctx)}, s.Board.Live()...),
		Queue: []Queue{}, Invocations: Invocations{WindowMinutes: int(telemetry.RecentWindow / time.Minute),
			ByStatus: telemetry.Recent(telemetry.RecentWindow)}}
	q, err := QueueOf(ctx, s.Msg, s.Commands())
	if err != nil {
		rep.QueueError = err.Error()
	} else {
		rep.Queue = q
	}
	return rep
}
