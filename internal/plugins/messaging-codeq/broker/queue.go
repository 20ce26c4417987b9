package broker

import (
	"container/heap"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire"
)

// Errors a worker's change of a task can meet; the message goes back in the ack.
var (
	errNotFound      = errors.New("not-found")
	errNotOwner      = errors.New("not-owner")
	errNotInProgress = errors.New("not-in-progress")
)

// queue is the broker's state: every live task in memory, mirrored to the store.
type queue struct {
	cfg     Config
	st      *store
	mu      sync.Mutex
	tasks   map[string]*record
	heaps   map[queueKey]*readyHeap
	idem    map[string]string // tenant\x00key → id
	seq     uint64
	waiters []*waiter
	// Indexes so the reaper and stats never scan every task.
	delayed  map[string]*record // PENDING with VisibleAt in the future
	leased   map[string]*record // IN_PROGRESS
	finished []*record          // terminal, oldest first (for retention)
	dead     map[queueKey]int64 // DLQ count per queue
}

// waiter is a held Ready: it is answered once by the first task(s) that arrive.
type waiter struct {
	w        *workerConn
	commands []string
	count    int
	lease    time.Duration
	expires  time.Time
}

func newQueue(cfg Config, st *store) (*queue, error) {
	q := &queue{cfg: cfg, st: st, tasks: map[string]*record{}, heaps: map[queueKey]*readyHeap{}, idem: map[string]string{},
		delayed: map[string]*record{}, leased: map[string]*record{}, dead: map[queueKey]int64{}}
	err := st.load(func(r *record) {
		q.tasks[r.ID] = r
		q.seq = max(q.seq, r.Seq)
		if r.Status == StatusPending && r.VisibleAt <= nowMs() {
			r.VisibleAt = 0
			q.push(r)
		}
		q.index(r)
	}, func(k []byte, id string) {
		q.idem[string(k[2:])] = id
	})
	slices.SortFunc(q.finished, func(a, b *record) int { return int(a.CompletedAt - b.CompletedAt) })
	return q, err
}

// save indexes r by its state and stages it in the store.
func (q *queue) save(r *record) <-chan error {
	q.index(r)
	return q.st.put(r)
}

// saveLazy is save without waiting for the disk (see store.putLazy).
func (q *queue) saveLazy(r *record) {
	q.index(r)
	q.st.putLazy(r)
}

// index files r under delayed, leased or finished according to its state.
func (q *queue) index(r *record) {
	wasFinished := r.indexed
	delete(q.delayed, r.ID)
	delete(q.leased, r.ID)
	switch {
	case r.Status == StatusPending && r.VisibleAt > 0:
		q.delayed[r.ID] = r
	case r.Status == StatusInProgress:
		q.leased[r.ID] = r
	case r.terminal() && !wasFinished:
		r.indexed = true
		q.finished = append(q.finished, r)
		if r.Status == StatusDLQ {
			q.dead[queueKey{r.Tenant, r.Command}]++
		}
	}
}

func (q *queue) push(r *record) {
	k := queueKey{r.Tenant, r.Command}
	h := q.heaps[k]
	if h == nil {
		h = &readyHeap{}
		q.heaps[k] = h
	}
	heap.Push(h, r)
}

// newID is a random (version 4) UUID, the form of codeQ's task ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// createReq is a CreateTask after the stream resolved its tenant.
type createReq struct {
	tenant, command, idemKey string
	id                       string // a client-chosen task id (see producer.go); "" for one of the broker's
	payload                  []byte
	priority, maxAttempts    int32
	visibleAt                int64
}

// create stores a new task (or finds the one its idempotency key names) and hands it to
// a held Ready if one fits. The channel yields once the task is durable.
func (q *queue) create(c createReq) (id string, durable <-chan error, err error) {
	if c.command == "" {
		return "", nil, errors.New("command is required")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.idemKey != "" {
		if id, ok := q.idem[c.tenant+"\x00"+c.idemKey]; ok {
			return id, q.st.stage(noop), nil
		}
	}
	id = newID()
	if c.id != "" {
		if r, ok := q.tasks[c.id]; ok && r.Tenant == c.tenant {
			return r.ID, q.st.stage(noop), nil
		} else if !ok {
			id = c.id
		}
	}
	now := nowMs()
	q.seq++
	r := &record{ID: id, Tenant: c.tenant, Command: c.command, Payload: c.payload,
		Priority: c.priority, MaxAttempts: c.maxAttempts, Status: StatusPending, VisibleAt: c.visibleAt,
		IdemKey: c.idemKey, Seq: q.seq, CreatedAt: now, UpdatedAt: now}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = int32(q.cfg.MaxAttempts)
	}
	q.tasks[r.ID] = r
	if c.idemKey != "" {
		q.idem[c.tenant+"\x00"+c.idemKey] = r.ID
		q.st.putIdem(c.tenant, c.idemKey, r.ID)
	}
	if r.VisibleAt <= now {
		r.VisibleAt = 0 // claimable now: in the ready heap, not the delayed index
	}
	durable = q.save(r)
	if r.VisibleAt == 0 {
		q.push(r)
		q.dispatch(queueKey{r.Tenant, r.Command})
	}
	return r.ID, durable, nil
}

// ready answers a Ready now when tasks wait, or holds it until one arrives.
func (q *queue) ready(w *workerConn, commands []string, count int, lease time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	wt := &waiter{w: w, commands: commands, count: max(count, 1), lease: lease, expires: time.Now().Add(q.cfg.ReadyHold)}
	if got := q.claim(wt); len(got) > 0 {
		w.deliver(got, count)
		return
	}
	q.waiters = append(q.waiters, wt)
}

// dispatch offers the queue k to held Readys, oldest first.
func (q *queue) dispatch(k queueKey) {
	for i := 0; i < len(q.waiters); i++ {
		wt := q.waiters[i]
		if wt.w.tenant != k.tenant || !slices.Contains(wt.commands, k.command) {
			continue
		}
		got := q.claim(wt)
		if len(got) == 0 {
			continue
		}
		q.waiters = slices.Delete(q.waiters, i, i+1)
		i--
		wt.w.deliver(got, wt.count)
		if h := q.heaps[k]; h == nil || h.Len() == 0 {
			return
		}
	}
}

// claim leases up to wt.count tasks of wt's commands to its worker.
func (q *queue) claim(wt *waiter) []claimed {
	var out []claimed
	for len(out) < wt.count {
		var best *readyHeap
		for _, c := range wt.commands {
			h := q.heaps[queueKey{wt.w.tenant, c}]
			if h != nil && h.Len() > 0 && (best == nil || (*h)[0].Priority > (*best)[0].Priority ||
				((*h)[0].Priority == (*best)[0].Priority && (*h)[0].Seq < (*best)[0].Seq)) {
				best = h
			}
		}
		if best == nil {
			break
		}
		r := heap.Pop(best).(*record)
		now := time.Now()
		r.Status, r.WorkerID, r.Attempts = StatusInProgress, wt.w.workerID, r.Attempts+1
		r.LeaseUntil, r.UpdatedAt = now.Add(wt.lease).UnixMilli(), now.UnixMilli()
		// The lease is written lazily: a machine crash before the next synced commit
		// forgets it and the task is delivered again, as a crash before its result is
		// synced already makes it; delivery does not wait for an fsync of its own.
		q.saveLazy(r)
		out = append(out, claimed{rec: *r})
	}
	return out
}

// claimed is a leased task copy (its lease written lazily, see claim).
type claimed struct {
	rec record
}

// owned returns the in-progress task id leased to worker, or why not.
func (q *queue) owned(tenant, id, worker string) (*record, error) {
	r, ok := q.tasks[id]
	if !ok || r.Tenant != tenant {
		return nil, errNotFound
	}
	if r.Status != StatusInProgress {
		return nil, errNotInProgress
	}
	if r.WorkerID != worker {
		return nil, errNotOwner
	}
	return r, nil
}

// complete ends a task: COMPLETED with a JSON object, or FAILED with an error (terminal).
func (q *queue) complete(tenant, worker, id, status string, result []byte, errMsg string) (<-chan error, error) {
	switch status {
	case StatusCompleted:
		if !wire.IsJSONObject(result) {
			return nil, errors.New("result_json must be a JSON object for COMPLETED")
		}
	case StatusFailed:
		if errMsg == "" {
			return nil, errors.New("error is required for FAILED")
		}
	default:
		return nil, fmt.Errorf("status must be COMPLETED or FAILED, got %q", status)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	r, err := q.owned(tenant, id, worker)
	if err != nil {
		return nil, err
	}
	now := nowMs()
	r.Status, r.Result, r.Error, r.CompletedAt, r.UpdatedAt, r.LeaseUntil = status, result, errMsg, now, now, 0
	return q.save(r), nil
}

// nack returns a task to the queue after delay (<= 0: backoff) or dead-letters it when
// its attempts are used up.
func (q *queue) nack(tenant, worker, id string, delaySec int32, reason string) (applied time.Duration, dlq bool, durable <-chan error, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	r, err := q.owned(tenant, id, worker)
	if err != nil {
		return 0, false, nil, err
	}
	applied, dlq = q.requeue(r, time.Duration(delaySec)*time.Second, reason)
	return applied, dlq, q.save(r), nil
}

// requeue counts an attempt, as codeQ does for a Nack or an expired lease, and makes r
// pending again after delay (backoff when <= 0), or dead-letters it once its attempts
// reach max_attempts (its error is then reason, else MAX_ATTEMPTS).
func (q *queue) requeue(r *record, delay time.Duration, reason string) (time.Duration, bool) {
	now := nowMs()
	r.WorkerID, r.LeaseUntil, r.UpdatedAt = "", 0, now
	r.Attempts++
	if r.Attempts >= r.MaxAttempts {
		if reason == "" {
			reason = "MAX_ATTEMPTS"
		}
		r.Status, r.CompletedAt, r.Error = StatusDLQ, now, reason
		return 0, true
	}
	r.Error = ""
	if delay <= 0 {
		delay = q.cfg.BackoffBase << min(max(r.Attempts-2, 0), 20) // codeQ: attempts before this Nack
		delay = min(delay, q.cfg.BackoffMax)
	}
	r.Status, r.VisibleAt = StatusPending, now+delay.Milliseconds()
	return delay, false
}

// heartbeat extends the lease of a task the worker holds.
func (q *queue) heartbeat(tenant, worker, id string, extend time.Duration) (<-chan error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	r, err := q.owned(tenant, id, worker)
	if err != nil {
		return nil, err
	}
	r.LeaseUntil, r.UpdatedAt = time.Now().Add(extend).UnixMilli(), nowMs()
	return q.save(r), nil
}

// abandon gives a lease back: the task is claimable at once. As in codeQ, the claim
// stays counted (the next claim counts another attempt).
func (q *queue) abandon(tenant, worker, id string) (<-chan error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	r, err := q.owned(tenant, id, worker)
	if err != nil {
		return nil, err
	}
	now := nowMs()
	r.Status, r.WorkerID, r.LeaseUntil, r.VisibleAt, r.UpdatedAt = StatusPending, "", 0, 0, now
	ch := q.save(r)
	q.push(r)
	q.dispatch(queueKey{r.Tenant, r.Command})
	return ch, nil
}

// dropWorker forgets the held Readys of a closed stream (its leases stay until they end).
func (q *queue) dropWorker(w *workerConn) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiters = slices.DeleteFunc(q.waiters, func(wt *waiter) bool { return wt.w == w })
}

// reap promotes due delayed tasks, requeues expired leases, drops Readys held too long
// (as codeQ does) and deletes results past retention.
func (q *queue) reap() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	ms := now.UnixMilli()
	touched := map[queueKey]bool{}
	for _, r := range q.delayed {
		if r.VisibleAt <= ms {
			delete(q.delayed, r.ID)
			r.VisibleAt = 0
			q.push(r)
			touched[queueKey{r.Tenant, r.Command}] = true
		}
	}
	for _, r := range q.leased {
		if r.LeaseUntil > ms {
			continue
		}
		if _, dlq := q.requeue(r, time.Nanosecond, "LEASE_EXPIRED"); !dlq {
			r.VisibleAt = 0
			q.push(r)
			touched[queueKey{r.Tenant, r.Command}] = true
		}
		q.save(r)
	}
	for len(q.finished) > 0 && ms-q.finished[0].CompletedAt > q.cfg.ResultTTL.Milliseconds() {
		r := q.finished[0]
		q.finished = q.finished[1:]
		delete(q.tasks, r.ID)
		if r.IdemKey != "" {
			delete(q.idem, r.Tenant+"\x00"+r.IdemKey)
		}
		if r.Status == StatusDLQ {
			q.dead[queueKey{r.Tenant, r.Command}]--
		}
		q.st.del(r)
	}
	q.waiters = slices.DeleteFunc(q.waiters, func(wt *waiter) bool { return now.After(wt.expires) })
	for k := range touched {
		q.dispatch(k)
	}
}

// stats counts one queue's tasks by state.
func (q *queue) stats(k queueKey) QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := QueueStats{Command: k.command, DLQ: q.dead[k]}
	if h := q.heaps[k]; h != nil {
		out.Ready = int64(h.Len())
	}
	for _, r := range q.delayed {
		if r.Tenant == k.tenant && r.Command == k.command {
			out.Delayed++
		}
	}
	for _, r := range q.leased {
		if r.Tenant == k.tenant && r.Command == k.command {
			out.InProgress++
		}
	}
	return out
}

// noop stages nothing: its channel yields once everything staged before it is durable.
func noop() {}
