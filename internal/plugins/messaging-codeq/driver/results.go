package driver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/sdk"
)

// Result reads the result over REST, falling back to the task for its status. An id
// this process enqueued under a Sous id (or key) is first mapped to codeQ's id.
func (d *Driver) Result(ctx context.Context, tenant, sousID string) (sdk.TaskResult, error) {
	if sousID == "" {
		return sdk.TaskResult{}, sdk.Errorf(sdk.ErrInvalid, "get result: id is required")
	}
	id := sousID
	mapped, known := d.ids.get(tenant, sousID)
	if known {
		id = mapped
	}
	task, res, err := d.rest.Result(ctx, id)
	if errors.Is(err, client.ErrNotFound) {
		task, err = d.rest.Task(ctx, id)
	}
	if errors.Is(err, client.ErrNotFound) {
		if !known && !d.namesByID.Load() {
			// codeQ names tasks itself: an id this process did not enqueue (e.g. before a
			// restart) cannot be looked up, which is not the same as a lost task.
			return sdk.TaskResult{}, sdk.Errorf(sdk.ErrRefused, "task %s: codeQ assigned its own id and this driver process did not enqueue it, so it cannot look it up", sousID)
		}
		return sdk.TaskResult{}, sdk.Errorf(sdk.ErrNotFound, "task %s not found", sousID)
	}
	if err != nil {
		return sdk.TaskResult{}, classify(fmt.Errorf("get result %s: %w", sousID, err))
	}
	if owner, _ := unwrapPayload(task.TenantID, []byte(task.Payload)); tenant != "" && owner != tenant {
		return sdk.TaskResult{}, sdk.Errorf(sdk.ErrNotFound, "task %s not found", sousID)
	}
	out := sdk.TaskResult{ID: sousID, Status: statusOf(task), Attempts: int(sousAttempts(task.Attempts)), Error: task.Error}
	if res != nil && out.Status != "dead" {
		out.Status, out.Error = statusOf(&client.TaskView{Status: res.Status}), res.Error
		if res.Status == "COMPLETED" {
			out.Result, out.Error = res.Result, ""
		}
		if at, err := time.Parse(time.RFC3339Nano, res.CompletedAt); err == nil {
			out.CompletedAt = at
		}
	}
	if out.Status == "pending" || out.Status == "in_progress" || out.Status == "delayed" {
		out.Error = ""
	}
	return out, nil
}

// statusOf maps codeQ's status and lastKnownLocation onto the Sous status: a delayed
// task is PENDING in DELAYED_ZSET, a dead letter is FAILED in DLQ_SET.
func statusOf(t *client.TaskView) string {
	switch t.Status {
	case "PENDING":
		if t.LastKnownLocation == client.LocationDelayed {
			return "delayed"
		}
		return "pending"
	case "IN_PROGRESS":
		return "in_progress"
	case "COMPLETED":
		return "completed"
	case "FAILED":
		if t.LastKnownLocation == client.LocationDLQ {
			return "dead"
		}
		return "failed"
	}
	return "pending"
}

// Stats reads GET /v1/codeq/admin/queues/{command} per command (default: the config's
// commands and the commands this process enqueued or subscribed to).
func (d *Driver) Stats(ctx context.Context, _ string, commands []string) ([]sdk.CommandStats, error) {
	cfg := d.config()
	cmds := commands
	if len(cmds) == 0 {
		cmds = slices.Clone(cfg.Commands)
		d.mu.Lock()
		for c := range d.seen {
			if !slices.Contains(cmds, c) {
				cmds = append(cmds, c)
			}
		}
		d.mu.Unlock()
		slices.Sort(cmds)
	}
	out := make([]sdk.CommandStats, 0, len(cmds))
	for _, c := range cmds {
		s, err := d.rest.Queue(ctx, c)
		if errors.Is(err, client.ErrNoToken) {
			return nil, sdk.Errorf(sdk.ErrRefused, "stats %s: %v", c, err)
		}
		if err != nil {
			return nil, classify(fmt.Errorf("stats %s: %w", c, err))
		}
		out = append(out, sdk.CommandStats{Command: c, Pending: s.Ready, InProgress: s.InProgress, Delayed: s.Delayed, Dead: s.DLQ})
	}
	return out, nil
}
