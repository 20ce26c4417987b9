package broker

import (
	"context"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
)

// producerServer serves codeQ's producer stream.
type producerServer struct {
	producerpb.UnimplementedProducerStreamServer
	b *Broker
}

// Stream runs one producer: Hello, then CreateTask / CreateTaskBatch, each acked by seq
// once the task is durable.
func (s *producerServer) Stream(st producerpb.ProducerStream_StreamServer) error {
	_, c, err := accept(s.b.cfg.Verifier, st.Recv, (*producerpb.ProducerEvent).GetHello, (*producerpb.Hello).GetToken, "")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	out := newOutbox(ctx, st.Send)
	out.send(&producerpb.ServerEvent{Event: &producerpb.ServerEvent_HelloAck{HelloAck: &producerpb.HelloAck{TenantId: c.Tenant, Subject: c.Subject}}})
	for {
		ev, err := st.Recv()
		if err != nil {
			return out.err(err)
		}
		if err := out.err(nil); err != nil {
			return err // a commit or send failed: end the stream, the client reconnects
		}
		switch e := ev.Event.(type) {
		case *producerpb.ProducerEvent_Create:
			ack, d := s.create(c.Tenant, e.Create)
			out.send(&producerpb.ServerEvent{Event: &producerpb.ServerEvent_CreateAck{CreateAck: ack}}, d)
		case *producerpb.ProducerEvent_CreateBatch:
			acks := &producerpb.CreateAckBatch{}
			var waits []<-chan error
			for _, t := range e.CreateBatch.Tasks {
				ack, d := s.create(c.Tenant, t)
				acks.Acks = append(acks.Acks, ack)
				waits = append(waits, d)
			}
			out.send(&producerpb.ServerEvent{Event: &producerpb.ServerEvent_CreateAckBatch{CreateAckBatch: acks}}, waits...)
		case *producerpb.ProducerEvent_Hello:
			out.send(&producerpb.ServerEvent{Event: &producerpb.ServerEvent_Error{Error: &producerpb.ServerError{Code: "FAILED_PRECONDITION", Message: "Hello was already received on this stream"}}})
		}
	}
}

func (s *producerServer) create(tenant string, t *producerpb.CreateTask) (*producerpb.CreateAck, <-chan error) {
	var visible int64
	switch {
	case t.RunAt != nil && t.RunAt.IsValid():
		visible = t.RunAt.AsTime().UnixMilli()
	case t.DelaySeconds > 0:
		visible = time.Now().Add(time.Duration(t.DelaySeconds) * time.Second).UnixMilli()
	}
	// An idempotent hit is an ok ack with the existing id, as in codeQ. Unlike codeQ, a
	// task_id (field 13, which codeQ's proto lacks and codeQ's clients never send) names
	// the task: the Sous driver sends the invocation id there, so after a host restart
	// its results are found by invocation id. deduplication_key is ignored, as in codeQ.
	id, d, err := s.b.q.create(createReq{tenant: tenant, command: t.Command, idemKey: t.IdempotencyKey, id: t.TaskId,
		payload: t.Payload, priority: t.Priority, maxAttempts: t.MaxAttempts, visibleAt: visible})
	return &producerpb.CreateAck{Seq: t.Seq, Ok: err == nil, TaskId: id, ErrorMessage: errText(err)}, d
}
