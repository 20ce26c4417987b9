package driver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sous-run/sous/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/plugins/messaging-codeq/wire/workerpb"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Enqueue sends one CreateTask on the producer stream. codeQ has no client-chosen task
// id, so a create sent again after a reconnect stays one task through its idempotency
// key alone: the task's key, else its Sous id, else a key the driver chooses.
func (d *Driver) Enqueue(ctx context.Context, req *messagingpb.EnqueueRequest) (*messagingpb.EnqueueResponse, error) {
	cfg, err := d.ready()
	if err != nil {
		return nil, err
	}
	t := req.GetTask()
	if err := checkTask(t); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if d.producer == nil {
		return nil, status.Error(codes.FailedPrecondition, "enqueue: codeq producer stream needs plugins.messaging.codeq.producer_token (or jwt_key)")
	}
	key := t.IdempotencyKey
	if key == "" {
		key = t.Id
	}
	if key != "" {
		if id, ok := d.ids.get(t.Tenant, key); ok {
			return &messagingpb.EnqueueResponse{Id: id, Duplicate: true}, nil
		}
	}
	if err := d.producer.Wait(ctx); err != nil {
		return nil, status.Error(codes.Unavailable, fmt.Sprintf("enqueue %s: %v", t.Command, err))
	}
	pt := d.producer.Tenant()
	wireKey := scopeIdemKey(t.Tenant, pt, key)
	if wireKey == "" {
		wireKey = "_sous:id:" + newTaskID()
	}
	ct := &producerpb.CreateTask{Command: t.Command, Payload: wrapPayload(t.Tenant, pt, t.Payload),
		Priority: t.Priority, MaxAttempts: codeqMaxAttempts(t.MaxAttempts, cfg.MaxAttempts), IdempotencyKey: wireKey,
		TaskId: t.Id} // codeQ drops it; the embedded broker names the task with it
	if t.DelayMs > 0 {
		ct.RunAt = timestamppb.New(runAt(time.Now(), t.DelayMs))
	}
	d.note(t.Command)
	res, err := d.producer.Create(ctx, ct)
	if err != nil {
		return nil, grpcErr(fmt.Errorf("enqueue %s: %w", t.Command, err))
	}
	if t.Id != "" && res.ID == t.Id {
		d.namesByID.Store(true)
	}
	if key != "" {
		d.ids.put(t.Tenant, key, res.ID)
		if t.Id != "" && t.Id != key {
			d.ids.put(t.Tenant, t.Id, res.ID)
		}
	}
	return &messagingpb.EnqueueResponse{Id: res.ID}, nil
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

// Consume maps the host's credits onto Ready{count} on the shared worker stream.
func (d *Driver) Consume(st messagingpb.Messaging_ConsumeServer) error {
	_, err := d.ready()
	if err != nil {
		return err
	}
	first, err := st.Recv()
	if err != nil {
		return err
	}
	sub := first.GetSubscribe()
	if sub == nil {
		return status.Error(codes.InvalidArgument, "consume: the first message must be Subscribe")
	}
	cmds := sub.Commands
	if len(cmds) == 0 {
		return status.Error(codes.InvalidArgument, "consume: Subscribe.commands is empty: list the commands (queues) to consume")
	}
	w, err := d.workerStream(sub.WorkerId)
	if err != nil {
		return err
	}
	d.note(cmds...)
	s := w.Subscribe(cmds, sub.LeaseSeconds)
	defer s.Close()
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	go func() {
		defer cancel()
		for {
			m, err := st.Recv()
			if err != nil {
				return
			}
			if c := m.GetCredit(); c != nil {
				s.Credit(int(c.N))
			}
		}
	}()
	for {
		t, err := s.Next(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		dl := delivery(w, t)
		w.SetOwner(t.Id, dl.Task.Tenant)
		if err := st.Send(dl); err != nil {
			abandonCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
			_ = w.Abandon(abandonCtx, t.Id)
			stop()
			return err
		}
	}
}

func delivery(w *client.Worker, t *workerpb.Task) *messagingpb.Delivery {
	tenant, payload := unwrapPayload(w.Tenant(), t.Payload)
	lease, until, _ := w.Lease(t.Id)
	var expires int64
	if !until.IsZero() {
		expires = until.UnixMilli()
	}
	var enq int64
	if t.CreatedAt != nil {
		enq = t.CreatedAt.AsTime().UnixMilli()
	}
	return &messagingpb.Delivery{Task: &messagingpb.Task{Id: t.Id, Tenant: tenant, Command: t.Command, Payload: payload,
		Priority: t.Priority, MaxAttempts: sousAttempts(t.MaxAttempts), Attempt: sousAttempts(t.Attempts), EnqueuedAtMs: enq},
		LeaseId: lease, LeaseExpiresMs: expires}
}

// leased returns the worker stream after checking the lease is current and, for a task
// this process holds, that it belongs to tenant (another tenant's task is NotFound).
func (d *Driver) leased(op, tenant, id, lease string) (*client.Worker, error) {
	if _, err := d.ready(); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, status.Errorf(codes.InvalidArgument, "%s: id is required", op)
	}
	w, err := d.workerStream("")
	if err != nil {
		return nil, err
	}
	if owner, ok := w.Owner(id); ok && owner != "" && owner != tenant {
		return nil, status.Errorf(codes.NotFound, "%s: task %s not found", op, id)
	}
	if err := w.CheckLease(id, lease); err != nil {
		return nil, grpcErr(fmt.Errorf("%s: %w", op, err))
	}
	return w, nil
}

// Ack sends Result COMPLETED; result_json must be a JSON object.
func (d *Driver) Ack(ctx context.Context, req *messagingpb.AckRequest) (*messagingpb.AckResponse, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(req.ResultJson, &obj) != nil || obj == nil {
		return nil, status.Errorf(codes.InvalidArgument, "ack %s: result_json must be a JSON object", req.Id)
	}
	w, err := d.leased("ack", req.Tenant, req.Id, req.LeaseId)
	if err != nil {
		return nil, err
	}
	if err := w.Complete(ctx, req.Id, req.ResultJson); err != nil {
		return nil, d.refused(ctx, "ack", req.Tenant, req.Id, err)
	}
	return &messagingpb.AckResponse{}, nil
}

// Fail sends Result FAILED (terminal) or, when retryable, a Nack with server backoff.
func (d *Driver) Fail(ctx context.Context, req *messagingpb.FailRequest) (*messagingpb.FailResponse, error) {
	w, err := d.leased("fail", req.Tenant, req.Id, req.LeaseId)
	if err != nil {
		return nil, err
	}
	msg := req.Error
	if msg == "" {
		msg = "failed"
	}
	if req.Retryable {
		dead, err := w.Nack(ctx, req.Id, 0, msg)
		if err != nil {
			return nil, d.refused(ctx, "fail", req.Tenant, req.Id, err)
		}
		return &messagingpb.FailResponse{Dead: dead}, nil
	}
	if err := w.Failed(ctx, req.Id, msg); err != nil {
		return nil, d.refused(ctx, "fail", req.Tenant, req.Id, err)
	}
	return &messagingpb.FailResponse{}, nil
}

// Nack returns the task after delay_seconds (<= 0: codeQ backoff).
func (d *Driver) Nack(ctx context.Context, req *messagingpb.NackRequest) (*messagingpb.NackResponse, error) {
	w, err := d.leased("nack", req.Tenant, req.Id, req.LeaseId)
	if err != nil {
		return nil, err
	}
	delay := req.DelaySeconds
	if delay > 0 {
		delay++ // codeQ truncates the due time to whole seconds: never redeliver early
	}
	dead, err := w.Nack(ctx, req.Id, delay, req.Reason)
	if err != nil {
		return nil, d.refused(ctx, "nack", req.Tenant, req.Id, err)
	}
	return &messagingpb.NackResponse{Dead: dead}, nil
}

// Extend sends a Heartbeat.
func (d *Driver) Extend(ctx context.Context, req *messagingpb.ExtendRequest) (*messagingpb.ExtendResponse, error) {
	if req.Seconds <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "extend %s: seconds must be > 0", req.Id)
	}
	w, err := d.leased("extend", req.Tenant, req.Id, req.LeaseId)
	if err != nil {
		return nil, err
	}
	until, err := w.Heartbeat(ctx, req.Id, req.Seconds)
	if err != nil {
		return nil, d.refused(ctx, "extend", req.Tenant, req.Id, err)
	}
	return &messagingpb.ExtendResponse{LeaseExpiresMs: until.UnixMilli()}, nil
}

// refused maps the error of a change of task id. When codeQ refused it, the task may
// belong to another Sous tenant (codeQ only knows its own tenant): then it is NotFound.
func (d *Driver) refused(ctx context.Context, op, tenant, id string, err error) error {
	var rej *client.RejectedError
	if errors.As(err, &rej) && rej.Reason != "not-found" {
		if task, terr := d.rest.Task(ctx, id); terr == nil {
			if owner, _ := unwrapPayload(task.TenantID, []byte(task.Payload)); owner != tenant {
				return status.Errorf(codes.NotFound, "%s: task %s not found", op, id)
			}
		}
	}
	return grpcErr(fmt.Errorf("%s: %w", op, err))
}
