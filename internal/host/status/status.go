// Package status is the operator's one-screen view of a deployment (`sous status`,
// GET /v1/admin/status): the host processes with version and uptime, each one's
// plugins with health and restarts, warm harness processes, queue depth per command
// and the invocations finished in the last minutes by status. Worker processes,
// which have no API, report themselves to the control role with a heartbeat.
package status

import (
	"context"
	"strconv"
	"time"

	"github.com/sous-run/sous/internal/host/plugins"
	"github.com/sous-run/sous/internal/host/telemetry"
	"github.com/sous-run/sous/sdk"
)

// Report is the answer of GET /v1/admin/status.
type Report struct {
	GeneratedAt time.Time   `json:"generated_at"`
	Processes   []Process   `json:"processes"`
	Queue       []Queue     `json:"queue"`
	QueueError  string      `json:"queue_error,omitempty"` // why messaging Stats did not answer
	Invocations Invocations `json:"invocations"`
}

// Process is one host process.
type Process struct {
	ID            string           `json:"id"`
	Role          string           `json:"role"` // all | control | worker
	Version       string           `json:"version"`
	StartedAt     time.Time        `json:"started_at"`
	UptimeSeconds int64            `json:"uptime_seconds"`
	LastSeen      time.Time        `json:"last_seen"`             // when this report was made (heartbeat time for workers)
	Concurrency   int              `json:"concurrency,omitempty"` // worker slots
	Running       int              `json:"running"`               // tasks running on this worker now
	Plugins       []Plugin         `json:"plugins"`
	Warm          map[string]*Warm `json:"warm,omitempty"` // per runtime
}

// Plugin is one plugin of a process.
type Plugin struct {
	Name     string `json:"name"`
	Version  string `json:"version,omitempty"`
	Healthy  bool   `json:"healthy"`
	Reason   string `json:"reason,omitempty"`
	Restarts int    `json:"restarts"`
	Pid      int    `json:"pid,omitempty"`
}

// Warm counts the harness processes of one executor.
type Warm struct {
	Processes int `json:"processes"`
	Idle      int `json:"idle"`
}

// Queue is the depth of one command's queue.
type Queue struct {
	Command    string `json:"command"`
	Pending    int64  `json:"pending"`
	Delayed    int64  `json:"delayed"`
	InProgress int64  `json:"in_progress"`
	Dead       int64  `json:"dead"`
}

// Invocations counts the invocations this control role finalized recently.
type Invocations struct {
	WindowMinutes int            `json:"window_minutes"`
	ByStatus      map[string]int `json:"by_status"`
}

// Self describes the running process: what it is and how to ask its parts.
type Self struct {
	ID          string
	Role        string
	StartedAt   time.Time
	Concurrency int
	Plugins     func(context.Context) []plugins.Status
	Running     func() int // nil for role control
}

// Report describes the process now.
func (s *Self) Report(ctx context.Context) Process {
	now := time.Now().UTC()
	p := Process{ID: s.ID, Role: s.Role, Version: telemetry.Version(), StartedAt: s.StartedAt.UTC(),
		UptimeSeconds: int64(now.Sub(s.StartedAt).Seconds()), LastSeen: now, Concurrency: s.Concurrency, Plugins: []Plugin{}}
	if s.Running != nil {
		p.Running = s.Running()
	}
	for _, st := range s.Plugins(ctx) {
		p.Plugins = append(p.Plugins, Plugin{Name: st.Name, Version: st.PluginVersion, Healthy: st.Healthy, Reason: st.Reason,
			Restarts: st.Restarts, Pid: st.Pid})
		if st.Kind == sdk.KindExecutor && st.Healthy {
			if p.Warm == nil {
				p.Warm = map[string]*Warm{}
			}
			n, _ := strconv.Atoi(st.Details["processes"])
			idle, _ := strconv.Atoi(st.Details["idle"])
			p.Warm[st.Driver] = &Warm{Processes: n, Idle: idle}
		}
	}
	return p
}

// QueueOf asks messaging for the depth of commands.
func QueueOf(ctx context.Context, msg sdk.Messaging, commands []string) ([]Queue, error) {
	stats, err := telemetry.QueueStats(ctx, msg, commands)
	if err != nil {
		return nil, err
	}
	out := make([]Queue, 0, len(stats))
	for _, s := range stats {
		out = append(out, Queue{Command: s.Command, Pending: s.Pending, Delayed: s.Delayed, InProgress: s.InProgress, Dead: s.Dead})
	}
	return out, nil
}
