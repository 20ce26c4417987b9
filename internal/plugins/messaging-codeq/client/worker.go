package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// ErrStaleLease is returned for a lease that is no longer the task's current one.
var ErrStaleLease = errors.New("stale lease")

// WorkerOptions configure the worker stream.
type WorkerOptions struct {
	WorkerID     string        // Hello.worker_id: lease ownership
	LeaseSeconds int32         // Ready.lease_seconds when a subscription sets none
	ReadyResend  time.Duration // re-send an unanswered Ready after this (codeQ drops it after ~30 s)
	// SousID names a task by the id Sous enqueued it with, for logs ("" when unknown:
	// codeQ picks its own ids, and only the process that enqueued knows the Sous one).
	SousID func(codeqID string) string
}

// Worker is one long-lived worker stream shared by every Consume of the process. It asks
// for exactly as many tasks as its subscriptions have credits, with at most one Ready in
// flight, and hands each task to a subscription that has a credit for its command.
type Worker struct {
	*link
	cl     workerpb.WorkerStreamClient
	token  TokenFunc
	opt    WorkerOptions
	log    hclog.Logger
	sendMu sync.Mutex
	mu     sync.Mutex
	stream workerpb.WorkerStream_StreamClient // nil while down
	subs   []*Sub
	ready  *readyState
	leases map[string]held              // task id → the current claim held by this process
	epoch  string                       // random per process: lease ids never repeat across restarts
	seq    uint64                       // claims received, for lease ids
	waits  map[string][]chan *workerAck // kind:task id → callers waiting for the ack
	done   chan struct{}
	closed bool
}

// readyState is the Ready in flight: when it was sent, its commands and the credits of
// each subscription it asked for.
type readyState struct {
	count int
	sent  time.Time
	cmds  []string
	subs  map[*Sub]int
}

// workerAck is any of the per-task acks, reduced to what callers need.
type workerAck struct {
	ok      bool
	msg     string
	dlq     bool
	applied int32
	err     error
}

// Sub is one subscription: its commands and its remaining credits.
type Sub struct {
	w        *Worker
	commands []string
	lease    int32
	credits  int
	queue    []*workerpb.Task
	notify   chan struct{}
	gone     bool
}

// NewWorker starts the worker stream on cc; it connects in the background.
func NewWorker(cc grpc.ClientConnInterface, token TokenFunc, opt WorkerOptions, log hclog.Logger) *Worker {
	if opt.ReadyResend <= 0 {
		opt.ReadyResend = 25 * time.Second
	}
	if opt.LeaseSeconds <= 0 {
		opt.LeaseSeconds = 30
	}
	w := &Worker{link: newLink("worker"), cl: workerpb.NewWorkerStreamClient(cc), token: token, opt: opt, log: log,
		leases: map[string]held{}, waits: map[string][]chan *workerAck{}, done: make(chan struct{}), epoch: randomHex(4)}
	go w.run()
	go w.resendLoop()
	go w.leaseLoop()
	return w
}

// newLeaseID names one claim received by this process. codeQ's attempts count claims,
// nacks and lease expiries alike, so they cannot tell two claims apart: the lease id is
// the process's own. Caller holds w.mu.
func (w *Worker) newLeaseID(t *workerpb.Task) string {
	w.seq++
	return w.epoch + "-" + strconv.FormatUint(w.seq, 10) + "-a" + strconv.Itoa(int(t.Attempts))
}

// Lease returns the lease id and lease end of a claim this process holds.
func (w *Worker) Lease(id string) (lease string, until time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, ok := w.leases[id]
	return h.lease, h.until, ok
}

// Subscribe registers a subscription with no credits yet.
func (w *Worker) Subscribe(commands []string, leaseSeconds int32) *Sub {
	if leaseSeconds <= 0 {
		leaseSeconds = w.opt.LeaseSeconds
	}
	s := &Sub{w: w, commands: slices.Clone(commands), lease: leaseSeconds, notify: make(chan struct{}, 1)}
	w.mu.Lock()
	w.subs = append(w.subs, s)
	w.mu.Unlock()
	return s
}

// Credit grants n more deliveries.
func (s *Sub) Credit(n int) {
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if n > 0 && !s.gone {
		s.credits += n
		if w.ready != nil && slices.ContainsFunc(s.commands, func(c string) bool { return !slices.Contains(w.ready.cmds, c) }) {
			// The Ready in flight cannot bring this subscription's commands: ask again
			// now rather than after it is answered or re-sent.
			w.ready = nil
		}
		w.askLocked()
	}
}

// Next waits for the next task delivered to this subscription.
func (s *Sub) Next(ctx context.Context) (*workerpb.Task, error) {
	for {
		s.w.mu.Lock()
		if len(s.queue) > 0 {
			t := s.queue[0]
			s.queue = s.queue[1:]
			s.w.mu.Unlock()
			return t, nil
		}
		s.w.mu.Unlock()
		select {
		case <-s.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close ends the subscription: tasks it received but did not hand out are abandoned at
// once, and the Ready in flight for its credits is withdrawn.
func (s *Sub) Close() {
	w := s.w
	w.mu.Lock()
	s.gone = true
	w.subs = slices.DeleteFunc(w.subs, func(x *Sub) bool { return x == s })
	left := s.queue
	s.queue, s.credits = nil, 0
	for _, t := range left {
		delete(w.leases, t.Id)
	}
	if w.ready != nil && w.ready.subs[s] > 0 {
		// codeQ cannot cancel a Ready, so withdraw it here: forget it and ask at once for
		// the credits of the subscriptions still open. A late answer to the withdrawn
		// Ready finds no credit and is abandoned at once (deliver).
		w.ready = nil
		w.askLocked()
	}
	w.mu.Unlock()
	for _, t := range left {
		w.abandonAsync(t.Id)
	}
}

// askLocked sends a Ready for all credits when none is in flight. Caller holds w.mu.
func (w *Worker) askLocked() {
	if w.stream == nil || w.ready != nil {
		return
	}
	total, lease := 0, int32(0)
	var cmds []string
	counted := map[*Sub]int{}
	for _, s := range w.subs {
		if s.credits <= 0 {
			continue
		}
		counted[s] = s.credits
		total += s.credits
		lease = max(lease, s.lease)
		for _, c := range s.commands {
			if !slices.Contains(cmds, c) {
				cmds = append(cmds, c)
			}
		}
	}
	if total == 0 {
		return
	}
	w.ready = &readyState{count: total, sent: time.Now(), cmds: cmds, subs: counted}
	ev := &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Ready{Ready: &workerpb.Ready{Commands: cmds, LeaseSeconds: lease, Count: int32(total)}}}
	if err := w.send(w.stream, ev); err != nil {
		w.ready = nil
	}
}

func (w *Worker) send(st workerpb.WorkerStream_StreamClient, ev *workerpb.WorkerEvent) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	return st.Send(ev)
}

// resendLoop forgets a Ready left unanswered for ReadyResend and asks again, so slots
// never hang on a Ready the server dropped.
func (w *Worker) resendLoop() {
	t := time.NewTicker(max(w.opt.ReadyResend/5, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		w.mu.Lock()
		if w.ready != nil && time.Since(w.ready.sent) >= w.opt.ReadyResend {
			w.ready = nil
			w.askLocked()
		}
		w.mu.Unlock()
	}
}

// deliver hands tasks to subscriptions with credits; tasks nobody can take are abandoned.
func (w *Worker) deliver(tasks []*workerpb.Task) {
	var extra []string
	w.mu.Lock()
	w.ready = nil
	for _, t := range tasks {
		i := slices.IndexFunc(w.subs, func(s *Sub) bool { return s.credits > 0 && slices.Contains(s.commands, t.Command) })
		if i < 0 {
			extra = append(extra, t.Id)
			continue
		}
		s := w.subs[i]
		s.credits--
		s.queue = append(s.queue, t)
		w.leases[t.Id] = held{lease: w.newLeaseID(t), until: leaseEnd(t)}
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
	w.askLocked()
	w.mu.Unlock()
	for _, id := range extra {
		w.abandonAsync(id)
	}
}

// CheckLease refuses a lease that is not the task's current one in this process.
func (w *Worker) CheckLease(id, lease string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.leases[id]; ok && lease != "" && cur.lease != lease {
		return fmt.Errorf("task %s: lease %s is not the current lease %s: %w", id, lease, cur.lease, ErrStaleLease)
	}
	return nil
}

// held is a claim this process holds: its lease id, when the lease ends and the owner
// the caller noted.
type held struct {
	lease, owner string
	until        time.Time
}

// SetOwner notes who owns a task this process holds (the driver's Sous tenant).
func (w *Worker) SetOwner(id, owner string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h, ok := w.leases[id]; ok {
		h.owner = owner
		w.leases[id] = h
	}
}

// Owner returns the owner noted for a task this process holds.
func (w *Worker) Owner(id string) (owner string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, ok := w.leases[id]
	return h.owner, ok
}

// Complete sends Result COMPLETED with a JSON object.
func (w *Worker) Complete(ctx context.Context, id string, result []byte) error {
	_, err := w.call(ctx, "result", id, &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Result{Result: &workerpb.Result{TaskId: id, Status: "COMPLETED", ResultJson: result}}}, true)
	return err
}

// Failed sends Result FAILED: terminal, no retry.
func (w *Worker) Failed(ctx context.Context, id, msg string) error {
	_, err := w.call(ctx, "result", id, &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Result{Result: &workerpb.Result{TaskId: id, Status: "FAILED", Error: msg}}}, true)
	return err
}

// Nack returns the task after delaySeconds (<= 0: server backoff); dlq reports a dead letter.
func (w *Worker) Nack(ctx context.Context, id string, delaySeconds int32, reason string) (dlq bool, err error) {
	a, err := w.call(ctx, "nack", id, &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Nack{Nack: &workerpb.Nack{TaskId: id, DelaySeconds: delaySeconds, Reason: reason}}}, true)
	if err != nil {
		return false, err
	}
	return a.dlq, nil
}

// Heartbeat extends the lease by seconds and returns its new end.
func (w *Worker) Heartbeat(ctx context.Context, id string, seconds int32) (time.Time, error) {
	until := time.Now().Add(time.Duration(seconds) * time.Second)
	if _, err := w.call(ctx, "heartbeat", id, &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Heartbeat{Heartbeat: &workerpb.Heartbeat{TaskId: id, ExtendSeconds: seconds}}}, false); err != nil {
		return time.Time{}, err
	}
	w.mu.Lock()
	if h, ok := w.leases[id]; ok {
		h.until = until.Add(-time.Second) // codeQ keeps lease ends in whole seconds
		w.leases[id] = h
	}
	w.mu.Unlock()
	return until, nil
}

// Abandon gives the lease back; the task is claimable again at once.
func (w *Worker) Abandon(ctx context.Context, id string) error {
	_, err := w.call(ctx, "abandon", id, &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Abandon{Abandon: &workerpb.Abandon{TaskId: id}}}, true)
	return err
}

// sousID is the Sous id of a task for logs, else its codeQ id.
func (w *Worker) sousID(id string) string {
	if w.opt.SousID != nil {
		if s := w.opt.SousID(id); s != "" {
			return s
		}
	}
	return id
}

func (w *Worker) abandonAsync(id string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Abandon(ctx, id); err != nil {
			w.log.Warn("abandon task", "task", w.sousID(id), "codeq_id", id, "error", err)
		}
	}()
}

// call sends ev and waits for the ack of kind for task id; ends forget the lease.
func (w *Worker) call(ctx context.Context, kind, id string, ev *workerpb.WorkerEvent, ends bool) (*workerAck, error) {
	if err := w.Wait(ctx); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	ch := make(chan *workerAck, 1)
	key := kind + ":" + id
	w.mu.Lock()
	st := w.stream
	if st == nil {
		w.mu.Unlock()
		return nil, fmt.Errorf("%s %s: codeq worker stream went down", kind, id)
	}
	w.waits[key] = append(w.waits[key], ch)
	w.mu.Unlock()
	if err := w.send(st, ev); err != nil {
		w.dropWait(key, ch)
		return nil, fmt.Errorf("%s %s: send: %w", kind, id, err)
	}
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, a.err)
		}
		if !a.ok {
			return nil, &RejectedError{Op: kind, TaskID: id, Reason: a.msg}
		}
		if ends {
			w.mu.Lock()
			delete(w.leases, id)
			w.mu.Unlock()
		}
		return a, nil
	case <-ctx.Done():
		w.dropWait(key, ch)
		return nil, fmt.Errorf("%s %s: no ack: %w", kind, id, ctx.Err())
	}
}

// RejectedError is an ack with ok=false: codeQ refused the change (not-found, not-owner,
// not-in-progress, or an invalid result).
type RejectedError struct{ Op, TaskID, Reason string }

func (e *RejectedError) Error() string {
	return fmt.Sprintf("codeq refused %s of task %s: %s", e.Op, e.TaskID, e.Reason)
}

func (w *Worker) dropWait(key string, ch chan *workerAck) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits[key] = slices.DeleteFunc(w.waits[key], func(c chan *workerAck) bool { return c == ch })
	if len(w.waits[key]) == 0 {
		delete(w.waits, key)
	}
}

func (w *Worker) resolve(key string, a *workerAck) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.waits[key]
	if len(q) == 0 {
		return
	}
	q[0] <- a
	if len(q) == 1 {
		delete(w.waits, key)
	} else {
		w.waits[key] = q[1:]
	}
}

// Close abandons every lease this process still holds, then ends the stream.
func (w *Worker) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	ids := make([]string, 0, len(w.leases))
	for id := range w.leases {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, id := range ids {
		if up, _ := w.State(); up {
			_ = w.Abandon(ctx, id)
		}
	}
	close(w.done)
}
