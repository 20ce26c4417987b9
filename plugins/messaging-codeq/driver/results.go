package driver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/plugins/messaging-codeq/client"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// GetResult reads the result over REST, falling back to the task for its status. An id
// this process enqueued under a Sous id (or key) is first mapped to codeQ's id.
func (d *Driver) GetResult(ctx context.Context, req *messagingpb.GetResultRequest) (*messagingpb.TaskResult, error) {
	if _, err := d.ready(); err != nil {
		return nil, err
	}
	if req.Id == "" {
		return nil, status.Error(codes.InvalidArgument, "get result: id is required")
	}
	id := req.Id
	mapped, known := d.ids.get(req.Tenant, req.Id)
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
			return nil, status.Errorf(codes.FailedPrecondition, "task %s: codeQ assigned its own id and this driver process did not enqueue it, so it cannot look it up", req.Id)
		}
		return nil, status.Errorf(codes.NotFound, "task %s not found", req.Id)
	}
	if err != nil {
		return nil, grpcErr(fmt.Errorf("get result %s: %w", req.Id, err))
	}
	if tenant, _ := unwrapPayload(task.TenantID, []byte(task.Payload)); req.Tenant != "" && tenant != req.Tenant {
		return nil, status.Errorf(codes.NotFound, "task %s not found", req.Id)
	}
	out := &messagingpb.TaskResult{Id: req.Id, Status: statusOf(task), Attempts: sousAttempts(task.Attempts), Error: task.Error}
	if res != nil && out.Status != "dead" {
		out.Status, out.Error = statusOf(&client.TaskView{Status: res.Status}), res.Error
		if res.Status == "COMPLETED" {
			out.ResultJson, out.Error = res.Result, ""
		}
		if at, err := time.Parse(time.RFC3339Nano, res.CompletedAt); err == nil {
			out.CompletedAtMs = at.UnixMilli()
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
func (d *Driver) Stats(ctx context.Context, req *messagingpb.StatsRequest) (*messagingpb.StatsResponse, error) {
	cfg, err := d.ready()
	if err != nil {
		return nil, err
	}
	cmds := req.Commands
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
	out := &messagingpb.StatsResponse{}
	for _, c := range cmds {
		s, err := d.rest.Queue(ctx, c)
		if errors.Is(err, client.ErrNoToken) {
			return nil, status.Errorf(codes.FailedPrecondition, "stats %s: %v", c, err)
		}
		if err != nil {
			return nil, grpcErr(fmt.Errorf("stats %s: %w", c, err))
		}
		out.Commands = append(out.Commands, &messagingpb.CommandStats{Command: c, Pending: s.Ready, InProgress: s.InProgress, Delayed: s.Delayed, Dead: s.DLQ})
	}
	return out, nil
}
