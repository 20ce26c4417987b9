package driver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/sdk"
)

// Enqueue sends one CreateTask on the producer stream. codeQ has no client-chosen task
// id, so a create sent again after a reconnect stays one task through its idempotency
// key alone: the task's key, else its Sous id, else a key the driver chooses.
func (d *Driver) Enqueue(ctx context.Context, t sdk.Task) (sdk.Enqueued, error) {
	cfg := d.config()
	if err := checkTask(t); err != nil {
		return sdk.Enqueued{}, sdk.WithKind(sdk.ErrInvalid, err)
	}
	if d.producer == nil {
		return sdk.Enqueued{}, sdk.Errorf(sdk.ErrRefused, "enqueue: codeq producer stream needs plugins.messaging.codeq.producer_token (or jwt_key)")
	}
	key := t.IdempotencyKey
	if key == "" {
		key = t.ID
	}
	if key != "" {
		if id, ok := d.ids.get(t.Tenant, key); ok {
			return sdk.Enqueued{ID: id, Duplicate: true}, nil
		}
	}
	if err := d.producer.Wait(ctx); err != nil {
		return sdk.Enqueued{}, sdk.WithKind(sdk.ErrUnavailable, fmt.Errorf("enqueue %s: %v", t.Command, err))
	}
	pt := d.producer.Tenant()
	wireKey := scopeIdemKey(t.Tenant, pt, key)
	if wireKey == "" {
		wireKey = "_sous:id:" + newTaskID()
	}
	ct := &producerpb.CreateTask{Command: t.Command, Payload: wrapPayload(t.Tenant, pt, t.Payload),
		Priority: int32(t.Priority), MaxAttempts: codeqMaxAttempts(int32(t.MaxAttempts), cfg.MaxAttempts), IdempotencyKey: wireKey,
		TaskId: t.ID} // codeQ drops it; the embedded broker names the task with it
	if ms := t.Delay.Milliseconds(); ms > 0 {
		ct.RunAt = timestamppb.New(runAt(time.Now(), ms))
	}
	d.note(t.Command)
	res, err := d.producer.Create(ctx, ct)
	if err != nil {
		return sdk.Enqueued{}, classify(fmt.Errorf("enqueue %s: %w", t.Command, err))
	}
	if t.ID != "" && res.ID == t.ID {
		d.namesByID.Store(true)
	}
	if key != "" {
		d.ids.put(t.Tenant, key, res.ID)
		if t.ID != "" && t.ID != key {
			d.ids.put(t.Tenant, t.ID, res.ID)
		}
	}
	return sdk.Enqueued{ID: res.ID}, nil
}

// runAt is when a task delayed by delayMs may run, rounded up to a whole second: codeQ
// keeps run_at in Unix seconds (truncated), so an exact instant could run up to 1 s early.
func runAt(now time.Time, delayMs int64) time.Time {
	at := now.Add(time.Duration(delayMs) * time.Millisecond)
	if tr := at.Truncate(time.Second); tr.Before(at) {
		at = tr.Add(time.Second)
	}
	return at
}

func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// leased returns the worker stream after checking the lease is current and, for a task
// this process holds, that it belongs to tenant (another tenant's task is NotFound).
func (d *Driver) leased(op string, l sdk.Lease) (*client.Worker, error) {
	tenant, id, lease := l.Tenant, l.TaskID, l.ID
	if id == "" {
		return nil, sdk.Errorf(sdk.ErrInvalid, "%s: id is required", op)
	}
	w, err := d.workerStream("")
	if err != nil {
		return nil, err
	}
	if owner, ok := w.Owner(id); ok && owner != "" && owner != tenant {
		return nil, notFound(op, id)
	}
	if err := w.CheckLease(id, lease); err != nil {
		return nil, classify(fmt.Errorf("%s: %w", op, err))
	}
	return w, nil
}

// Ack sends Result COMPLETED; result_json must be a JSON object.
func (d *Driver) Ack(ctx context.Context, l sdk.Lease, result []byte) error {
	if !wire.IsJSONObject(result) {
		return sdk.Errorf(sdk.ErrInvalid, "ack %s: result_json must be a JSON object", l.TaskID)
	}
	w, err := d.leased("ack", l)
	if err != nil {
		return err
	}
	if err := w.Complete(ctx, l.TaskID, result); err != nil {
		return d.refused(ctx, "ack", l, err)
	}
	return nil
}

// Fail sends Result FAILED (terminal) or, when retryable, a Nack with server backoff.
func (d *Driver) Fail(ctx context.Context, l sdk.Lease, reason string, retryable bool) (bool, error) {
	w, err := d.leased("fail", l)
	if err != nil {
		return false, err
	}
	if reason == "" {
		reason = "failed"
	}
	if retryable {
		dead, err := w.Nack(ctx, l.TaskID, 0, reason)
		if err != nil {
			return false, d.refused(ctx, "fail", l, err)
		}
		return dead, nil
	}
	if err := w.Failed(ctx, l.TaskID, reason); err != nil {
		return false, d.refused(ctx, "fail", l, err)
	}
	return false, nil
}

// Nack returns the task after delay, in whole seconds (<= 0: codeQ backoff).
func (d *Driver) Nack(ctx context.Context, l sdk.Lease, delay time.Duration, reason string) (bool, error) {
	w, err := d.leased("nack", l)
	if err != nil {
		return false, err
	}
	secs := int32(delay / time.Second)
	if secs > 0 {
		secs++ // codeQ truncates the due time to whole seconds: never redeliver early
	}
	dead, err := w.Nack(ctx, l.TaskID, secs, reason)
	if err != nil {
		return false, d.refused(ctx, "nack", l, err)
	}
	return dead, nil
}

// Extend sends a Heartbeat.
func (d *Driver) Extend(ctx context.Context, l sdk.Lease, dur time.Duration) (time.Time, error) {
	secs := int32(dur / time.Second)
	if secs <= 0 {
		return time.Time{}, sdk.Errorf(sdk.ErrInvalid, "extend %s: seconds must be > 0", l.TaskID)
	}
	w, err := d.leased("extend", l)
	if err != nil {
		return time.Time{}, err
	}
	until, err := w.Heartbeat(ctx, l.TaskID, secs)
	if err != nil {
		return time.Time{}, d.refused(ctx, "extend", l, err)
	}
	return until, nil
}

// refused maps the error of a change of task id. When codeQ refused it, the task may
// belong to another Sous tenant (codeQ only knows its own tenant): then it is NotFound.
func (d *Driver) refused(ctx context.Context, op string, l sdk.Lease, err error) error {
	var rej *client.RejectedError
	if errors.As(err, &rej) && rej.Reason != "not-found" {
		if task, terr := d.rest.Task(ctx, l.TaskID); terr == nil {
			if owner, _ := unwrapPayload(task.TenantID, []byte(task.Payload)); owner != l.Tenant {
				return notFound(op, l.TaskID)
			}
		}
	}
	return classify(fmt.Errorf("%s: %w", op, err))
}

// notFound is the answer for a task of another tenant, or none.
func notFound(op, id string) error {
	return sdk.Errorf(sdk.ErrNotFound, "%s: task %s not found", op, id)
}
