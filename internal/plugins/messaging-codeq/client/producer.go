package client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
)

// maxBatch caps how many queued creates go out in one CreateTaskBatch.
const maxBatch = 256

// Created is codeQ's answer to one create.
type Created struct {
	ID string // codeQ's id; an idempotent hit answers the existing task's id, like a new one
}

// Producer is one long-lived producer stream shared by every Enqueue of the process.
type Producer struct {
	*link
	cl     producerpb.ProducerStreamClient
	token  TokenFunc
	log    hclog.Logger
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []*pendingCreate          // not sent on the current stream yet
	sent   map[uint64]*pendingCreate // sent, waiting for the ack
	done   chan struct{}
	closed bool
}

type pendingCreate struct {
	req  *producerpb.CreateTask
	res  chan createResult
	gone bool // the caller gave up
}

type createResult struct {
	c   Created
	err error
}

// NewProducer starts the stream on cc; it connects in the background.
func NewProducer(cc grpc.ClientConnInterface, token TokenFunc, log hclog.Logger) *Producer {
	p := &Producer{link: newLink("producer"), cl: producerpb.NewProducerStreamClient(cc), token: token, log: log,
		sent: map[uint64]*pendingCreate{}, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.run()
	return p
}

// Create submits t (seq is assigned here) and waits for its ack. A create cut off by a
// broken stream is sent again on the next one: set task_id or idempotency_key so the
// retry cannot make a second task.
func (p *Producer) Create(ctx context.Context, t *producerpb.CreateTask) (Created, error) {
	pc := &pendingCreate{req: t, res: make(chan createResult, 1)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Created{}, errors.New("codeq producer closed")
	}
	p.queue = append(p.queue, pc)
	p.cond.Signal()
	p.mu.Unlock()
	select {
	case r := <-pc.res:
		return r.c, r.err
	case <-ctx.Done():
		p.mu.Lock()
		pc.gone = true
		p.mu.Unlock()
		_, reason := p.State()
		if reason != "" {
			return Created{}, fmt.Errorf("codeq create not acknowledged (%s): %w", reason, ctx.Err())
		}
		return Created{}, fmt.Errorf("codeq create not acknowledged: %w", ctx.Err())
	}
}

// Close ends the stream; waiting creates fail.
func (p *Producer) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
		p.cond.Broadcast()
	}
	p.mu.Unlock()
}

func (p *Producer) run() {
	var bo backoff
	for {
		err := p.session(&bo)
		p.setDown(err)
		p.log.Warn("codeq producer stream down", "error", err)
		p.mu.Lock()
		// Resend what was in flight first, in its original order.
		var again []*pendingCreate
		for _, pc := range p.sent {
			if !pc.gone {
				// The old stream may still hold the sent request (an in-memory stream hands
				// messages over as they are): send a copy, whose seq the next session sets.
				pc.req = proto.Clone(pc.req).(*producerpb.CreateTask)
				again = append(again, pc)
			}
		}
		sortBySeq(again)
		p.queue = append(again, p.queue...)
		p.sent = map[uint64]*pendingCreate{}
		closed := p.closed
		p.mu.Unlock()
		if closed || !sleep(p.done, bo.next()) {
			p.failAll(errors.New("codeq producer closed"))
			return
		}
	}
}

func (p *Producer) session(bo *backoff) error {
	tok, err := p.token()
	if err != nil {
		return fmt.Errorf("producer token: %w", err)
	}
	ctx, cancel := streamCtx(p.done)
	defer cancel()
	st, err := p.cl.Stream(ctx)
	if err != nil {
		return fmt.Errorf("open producer stream: %w", err)
	}
	if err := st.Send(&producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Hello{Hello: &producerpb.Hello{Token: tok}}}); err != nil {
		return fmt.Errorf("producer hello: %w", recvErr(st.RecvMsg, err))
	}
	first, err := st.Recv()
	if err != nil {
		return fmt.Errorf("producer hello rejected: %w", err)
	}
	ack := first.GetHelloAck()
	if ack == nil {
		return fmt.Errorf("producer hello: unexpected first event %T", first.Event)
	}
	p.setUp(ack.TenantId)
	bo.reset()
	sendErr := make(chan error, 1)
	go func() { sendErr <- p.sendLoop(ctx, st) }()
	for {
		ev, err := st.Recv()
		if err != nil {
			cancel()
			p.mu.Lock()
			p.cond.Broadcast()
			p.mu.Unlock()
			<-sendErr
			return fmt.Errorf("producer stream: %w", err)
		}
		switch e := ev.Event.(type) {
		case *producerpb.ServerEvent_CreateAck:
			p.resolve(e.CreateAck)
		case *producerpb.ServerEvent_CreateAckBatch:
			for _, a := range e.CreateAckBatch.Acks {
				p.resolve(a)
			}
		case *producerpb.ServerEvent_Error:
			p.log.Warn("codeq producer server error", "code", e.Error.Code, "message", e.Error.Message)
		}
	}
}

// sendLoop drains the queue: one CreateTask, or a CreateTaskBatch when several wait.
func (p *Producer) sendLoop(ctx context.Context, st producerpb.ProducerStream_StreamClient) error {
	var seq uint64
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && ctx.Err() == nil {
			p.cond.Wait()
		}
		if ctx.Err() != nil {
			p.mu.Unlock()
			return ctx.Err()
		}
		n := min(len(p.queue), maxBatch)
		batch := make([]*producerpb.CreateTask, 0, n)
		for _, pc := range p.queue[:n] {
			if pc.gone {
				continue
			}
			seq++
			pc.req.Seq = seq
			p.sent[seq] = pc
			batch = append(batch, pc.req)
		}
		p.queue = p.queue[n:]
		p.mu.Unlock()
		var ev *producerpb.ProducerEvent
		switch len(batch) {
		case 0:
			continue
		case 1:
			ev = &producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Create{Create: batch[0]}}
		default:
			ev = &producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_CreateBatch{CreateBatch: &producerpb.CreateTaskBatch{Tasks: batch}}}
		}
		if err := st.Send(ev); err != nil {
			return err
		}
	}
}

func (p *Producer) resolve(a *producerpb.CreateAck) {
	p.mu.Lock()
	pc := p.sent[a.Seq]
	delete(p.sent, a.Seq)
	p.mu.Unlock()
	if pc == nil {
		return
	}
	r := createResult{c: Created{ID: a.TaskId}}
	if !a.Ok {
		r.err = fmt.Errorf("codeq rejected create of %s: %s", pc.req.Command, a.ErrorMessage)
	}
	pc.res <- r
}

func (p *Producer) failAll(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.queue {
		pc.res <- createResult{err: err}
	}
	p.queue = nil
}

func sortBySeq(pcs []*pendingCreate) {
	for i := 1; i < len(pcs); i++ {
		for j := i; j > 0 && pcs[j].req.Seq < pcs[j-1].req.Seq; j-- {
			pcs[j], pcs[j-1] = pcs[j-1], pcs[j]
		}
	}
}

// recvErr prefers the stream's status (e.g. Unauthenticated) over a bare io.EOF from Send.
func recvErr(recv func(any) error, sendErr error) error {
	var m producerpb.ServerEvent
	if err := recv(&m); err != nil {
		return err
	}
	return sendErr
}
