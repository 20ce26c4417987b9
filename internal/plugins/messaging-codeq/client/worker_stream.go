package client

import (
	"fmt"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

func (w *Worker) run() {
	var bo backoff
	for {
		err := w.session(&bo)
		w.setDown(err)
		w.log.Warn("codeq worker stream down", "error", err)
		w.mu.Lock()
		w.stream, w.ready = nil, nil
		for key, q := range w.waits {
			for _, ch := range q {
				ch <- &workerAck{err: fmt.Errorf("worker stream lost before the ack: %w", err)}
			}
			delete(w.waits, key)
		}
		w.mu.Unlock()
		if !sleep(w.done, bo.next()) {
			return
		}
	}
}

func (w *Worker) session(bo *backoff) error {
	tok, err := w.token()
	if err != nil {
		return fmt.Errorf("worker token: %w", err)
	}
	ctx, cancel := streamCtx(w.done)
	defer cancel()
	st, err := w.cl.Stream(ctx)
	if err != nil {
		return fmt.Errorf("open worker stream: %w", err)
	}
	if err := st.Send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: tok, WorkerId: w.opt.WorkerID}}}); err != nil {
		return fmt.Errorf("worker hello: %w", err)
	}
	first, err := st.Recv()
	if err != nil {
		return fmt.Errorf("worker hello rejected: %w", err)
	}
	ack := first.GetHelloAck()
	if ack == nil {
		return fmt.Errorf("worker hello: unexpected first event %T", first.Event)
	}
	w.mu.Lock()
	w.stream, w.ready = st, nil
	w.setUp(ack.TenantId)
	w.askLocked()
	w.mu.Unlock()
	bo.reset()
	for {
		ev, err := st.Recv()
		if err != nil {
			return fmt.Errorf("worker stream: %w", err)
		}
		w.handle(ev)
	}
}

func (w *Worker) handle(ev *workerpb.ServerEvent) {
	switch e := ev.Event.(type) {
	case *workerpb.ServerEvent_Task:
		w.deliver([]*workerpb.Task{e.Task.Task})
	case *workerpb.ServerEvent_TaskBatch:
		w.deliver(e.TaskBatch.Tasks)
	case *workerpb.ServerEvent_ResultAck:
		w.resolve("result:"+e.ResultAck.TaskId, &workerAck{ok: e.ResultAck.Ok, msg: e.ResultAck.ErrorMessage})
	case *workerpb.ServerEvent_ResultAckBatch:
		for _, a := range e.ResultAckBatch.Acks {
			w.resolve("result:"+a.TaskId, &workerAck{ok: a.Ok, msg: a.ErrorMessage})
		}
	case *workerpb.ServerEvent_NackAck:
		a := e.NackAck
		w.resolve("nack:"+a.TaskId, &workerAck{ok: a.Ok, msg: a.ErrorMessage, dlq: a.Dlq, applied: a.AppliedDelaySeconds})
	case *workerpb.ServerEvent_HeartbeatAck:
		w.resolve("heartbeat:"+e.HeartbeatAck.TaskId, &workerAck{ok: e.HeartbeatAck.Ok, msg: e.HeartbeatAck.ErrorMessage})
	case *workerpb.ServerEvent_AbandonAck:
		w.resolve("abandon:"+e.AbandonAck.TaskId, &workerAck{ok: e.AbandonAck.Ok, msg: e.AbandonAck.ErrorMessage})
	case *workerpb.ServerEvent_Error:
		w.log.Warn("codeq worker server error", "code", e.Error.Code, "message", e.Error.Message)
	}
}
