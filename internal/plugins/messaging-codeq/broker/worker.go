package broker

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// workerServer serves codeQ's worker stream.
type workerServer struct {
	workerpb.UnimplementedWorkerStreamServer
	b *Broker
}

// workerConn is one open worker stream.
type workerConn struct {
	tenant, workerID string
	claims           *token.Claims
	out              *outbox[*workerpb.ServerEvent]
}

// deliver answers a Ready: one TaskAssignment when it asked for one, else one TaskBatch.
// Called under the queue lock; the leases are written lazily (see queue.claim).
func (w *workerConn) deliver(got []claimed, count int) {
	tasks := make([]*workerpb.Task, 0, len(got))
	for _, c := range got {
		tasks = append(tasks, wireTask(&c.rec))
	}
	ev := &workerpb.ServerEvent{Event: &workerpb.ServerEvent_TaskBatch{TaskBatch: &workerpb.TaskBatch{Tasks: tasks}}}
	if count <= 1 {
		ev = &workerpb.ServerEvent{Event: &workerpb.ServerEvent_Task{Task: &workerpb.TaskAssignment{Task: tasks[0]}}}
	}
	w.out.send(ev)
}

func wireTask(r *record) *workerpb.Task {
	return &workerpb.Task{Id: r.ID, Command: r.Command, Payload: r.Payload, Priority: r.Priority,
		MaxAttempts: r.MaxAttempts, Status: r.Status, WorkerId: r.WorkerID,
		LeaseUntil: msTime(r.LeaseUntil).Truncate(time.Second).Format(time.RFC3339), Attempts: r.Attempts, TenantId: r.Tenant,
		CreatedAt: timestamppb.New(msTime(r.CreatedAt)), UpdatedAt: timestamppb.New(msTime(r.UpdatedAt))}
}

// Stream runs one worker: Hello, then Ready/Result/Nack/Heartbeat/Abandon.
func (s *workerServer) Stream(st workerpb.WorkerStream_StreamServer) error {
	h, c, err := accept(s.b.cfg.Verifier, st.Recv, (*workerpb.WorkerEvent).GetHello, (*workerpb.Hello).GetToken, token.ScopeClaim)
	if err != nil {
		return err
	}
	w := &workerConn{tenant: c.Tenant, workerID: h.WorkerId, claims: c}
	if w.workerID == "" {
		w.workerID = c.Subject
	}
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	w.out = newOutbox(ctx, st.Send)
	defer s.b.q.dropWorker(w)
	w.out.send(&workerpb.ServerEvent{Event: &workerpb.ServerEvent_HelloAck{HelloAck: &workerpb.HelloAck{WorkerId: w.workerID, TenantId: w.tenant}}})
	for {
		ev, err := st.Recv()
		if err != nil {
			return w.out.err(err)
		}
		if err := w.out.err(nil); err != nil {
			return err // a commit or send failed: end the stream, the client reconnects
		}
		s.handle(w, ev)
	}
}

func (s *workerServer) handle(w *workerConn, ev *workerpb.WorkerEvent) {
	q := s.b.q
	switch e := ev.Event.(type) {
	case *workerpb.WorkerEvent_Ready:
		s.ready(w, e.Ready)
	case *workerpb.WorkerEvent_Result:
		r := e.Result
		d, err := q.complete(w.tenant, w.workerID, r.TaskId, r.Status, r.ResultJson, r.Error)
		w.out.send(&workerpb.ServerEvent{Event: &workerpb.ServerEvent_ResultAck{ResultAck: resultAck(r.TaskId, err)}}, d)
	case *workerpb.WorkerEvent_ResultBatch:
		acks := &workerpb.ResultAckBatch{}
		var waits []<-chan error
		for _, r := range e.ResultBatch.Results {
			d, err := q.complete(w.tenant, w.workerID, r.TaskId, r.Status, r.ResultJson, r.Error)
			acks.Acks = append(acks.Acks, resultAck(r.TaskId, err))
			waits = append(waits, d)
		}
		w.out.send(&workerpb.ServerEvent{Event: &workerpb.ServerEvent_ResultAckBatch{ResultAckBatch: acks}}, waits...)
	case *workerpb.WorkerEvent_Nack:
		applied, dlq, d, err := q.nack(w.tenant, w.workerID, e.Nack.TaskId, e.Nack.DelaySeconds, e.Nack.Reason)
		ack := &workerpb.NackAck{TaskId: e.Nack.TaskId, Ok: err == nil, ErrorMessage: errText(err), AppliedDelaySeconds: int32(applied / time.Second), Dlq: dlq}
		w.out.send(&workerpb.ServerEvent{Event: &workerpb.ServerEvent_NackAck{NackAck: ack}}, d)
	case *workerpb.WorkerEvent_Heartbeat:
		ext := time.Duration(e.Heartbeat.ExtendSeconds) * time.Second
		if ext <= 0 {
			ext = s.b.cfg.DefaultLease
		}
		d, err := q.heartbeat(w.tenant, w.workerID, e.Heartbeat.TaskId, ext)
		ack := &workerpb.HeartbeatAck{TaskId: e.Heartbeat.TaskId, Ok: err == nil, ErrorMessage: errText(err)}
		w.out.send(&workerpb.ServerEvent{Event: &workerpb.ServerEvent_HeartbeatAck{HeartbeatAck: ack}}, d)
	case *workerpb.WorkerEvent_Abandon:
		d, err := q.abandon(w.tenant, w.workerID, e.Abandon.TaskId)
		ack := &workerpb.AbandonAck{TaskId: e.Abandon.TaskId, Ok: err == nil, ErrorMessage: errText(err)}
		w.out.send(&workerpb.ServerEvent{Event: &workerpb.ServerEvent_AbandonAck{AbandonAck: ack}}, d)
	case *workerpb.WorkerEvent_Hello:
		w.out.send(serverError("FAILED_PRECONDITION", "Hello was already received on this stream"))
	}
}

func (s *workerServer) ready(w *workerConn, r *workerpb.Ready) {
	cmds := r.Commands
	if len(cmds) == 0 {
		// As codeQ: an empty list means the token's eventTypes; with none (or "*") the
		// Ready matches nothing and gets no answer.
		cmds = w.claims.Commands()
		if len(cmds) == 0 {
			return
		}
	}
	for _, c := range cmds {
		if !w.claims.MayClaim(c) {
			w.out.send(serverError("PERMISSION_DENIED", "token may not claim command "+c))
			return
		}
	}
	lease := time.Duration(r.LeaseSeconds) * time.Second
	if lease <= 0 {
		lease = s.b.cfg.DefaultLease
	}
	s.b.q.ready(w, cmds, int(r.Count), lease)
}

func resultAck(id string, err error) *workerpb.ResultAck {
	return &workerpb.ResultAck{TaskId: id, Ok: err == nil, ErrorMessage: errText(err)}
}

func serverError(code, msg string) *workerpb.ServerEvent {
	return &workerpb.ServerEvent{Event: &workerpb.ServerEvent_Error{Error: &workerpb.ServerError{Code: code, Message: msg}}}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
