package fakes

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sous-run/sous/sdk"
)

// Messaging is an in-memory sdk.Messaging: one FIFO of tasks, leases that never
// expire on their own, and a record of every settling call.
type Messaging struct {
	base
	Hook Hook // optional; see Hook

	mu        sync.Mutex
	seq       int
	queue     []*entry          // pending, in order
	tasks     map[string]*entry // by tenant/id
	consumers []*Consumer
	wake      chan struct{} // closed and replaced when the queue or consumers change
	opened    int

	calls map[string][]sdk.Lease // Ack, Nack, Fail, Extend → leases, in call order
}

type entry struct {
	task   sdk.Task
	status string
	lease  string
	result []byte
	err    string
	done   time.Time
}

// NewMessaging returns an empty queue.
func NewMessaging() *Messaging {
	return &Messaging{base: base{kind: sdk.KindMessaging}, tasks: map[string]*entry{}, wake: make(chan struct{}),
		calls: map[string][]sdk.Lease{}}
}

var _ sdk.Messaging = (*Messaging)(nil)

func key(tenant, id string) string { return tenant + "/" + id }

// notify wakes every waiting consumer; the caller holds m.mu.
func (m *Messaging) notify() {
	close(m.wake)
	m.wake = make(chan struct{})
}

// Enqueue queues t; a task id or idempotency key seen before is a duplicate.
func (m *Messaging) Enqueue(ctx context.Context, t sdk.Task) (sdk.Enqueued, error) {
	if err := call(ctx, m.Hook, "Enqueue", t.ID); err != nil {
		return sdk.Enqueued{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.ID == "" {
		m.seq++
		t.ID = "task-" + strconv.Itoa(m.seq)
	}
	if _, ok := m.tasks[key(t.Tenant, t.ID)]; ok {
		return sdk.Enqueued{ID: t.ID, Duplicate: true}, nil
	}
	t.EnqueuedAt = time.Now()
	e := &entry{task: t, status: sdk.TaskPending}
	m.tasks[key(t.Tenant, t.ID)] = e
	m.queue = append(m.queue, e)
	m.notify()
	return sdk.Enqueued{ID: t.ID}, nil
}

// Consume opens a consumer of s.Commands.
func (m *Messaging) Consume(ctx context.Context, s sdk.Subscription) (sdk.Consumer, error) {
	if err := call(ctx, m.Hook, "Consume", ""); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &Consumer{m: m, sub: s, ctx: ctx, ended: make(chan struct{})}
	m.consumers = append(m.consumers, c)
	m.opened++
	return c, nil
}

// Opened is how many consumers were opened so far.
func (m *Messaging) Opened() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.opened
}

// Calls returns the leases passed to Ack, Nack, Fail or Extend (name), in call order.
func (m *Messaging) Calls(name string) []sdk.Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls[name])
}

// Asked returns, for each consumer opened so far (in order), the largest max its Next
// was asked for (0: never asked).
func (m *Messaging) Asked() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, len(m.consumers))
	for i, c := range m.consumers {
		out[i] = c.asked
	}
	return out
}

// Break makes every open consumer fail its Next with err (a broken stream).
func (m *Messaging) Break(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.consumers {
		c.stop(err)
	}
	m.notify()
}

// claim takes up to max pending tasks of s's commands; the caller holds m.mu.
func (m *Messaging) claim(s sdk.Subscription, max int) []sdk.Delivery {
	var out []sdk.Delivery
	rest := m.queue[:0:0]
	for _, e := range m.queue {
		if len(out) < max && slices.Contains(s.Commands, e.task.Command) && (s.Tenant == "" || s.Tenant == e.task.Tenant) {
			m.seq++
			e.status, e.lease = sdk.TaskInProgress, "lease-"+strconv.Itoa(m.seq)
			e.task.Attempt++
			out = append(out, sdk.Delivery{Task: e.task, Lease: sdk.Lease{Tenant: e.task.Tenant, TaskID: e.task.ID, ID: e.lease,
				Expires: time.Now().Add(s.Lease)}})
			continue
		}
		rest = append(rest, e)
	}
	m.queue = rest
	return out
}

// settle finds the task a lease holds; the caller holds m.mu.
func (m *Messaging) settle(l sdk.Lease) (*entry, error) {
	e, ok := m.tasks[key(l.Tenant, l.TaskID)]
	if !ok {
		return nil, fmt.Errorf("task %s: %w", l.TaskID, sdk.ErrNotFound)
	}
	if e.status != sdk.TaskInProgress || e.lease != l.ID {
		return nil, fmt.Errorf("task %s: lease %s is stale: %w", l.TaskID, l.ID, sdk.ErrRefused)
	}
	return e, nil
}

// Ack completes the task with result.
func (m *Messaging) Ack(ctx context.Context, l sdk.Lease, result []byte) error {
	if err := call(ctx, m.Hook, "Ack", l.TaskID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Ack"] = append(m.calls["Ack"], l)
	e, err := m.settle(l)
	if err != nil {
		return err
	}
	e.status, e.result, e.done = sdk.TaskCompleted, result, time.Now()
	return nil
}

// Fail ends the task; a retryable failure requeues it until MaxAttempts.
func (m *Messaging) Fail(ctx context.Context, l sdk.Lease, reason string, retryable bool) (bool, error) {
	return m.end(ctx, "Fail", l, reason, retryable)
}

// Nack returns the task at once (the delay is ignored) or dead-letters it after
// MaxAttempts.
func (m *Messaging) Nack(ctx context.Context, l sdk.Lease, _ time.Duration, reason string) (bool, error) {
	return m.end(ctx, "Nack", l, reason, true)
}

// end is Fail and Nack: it requeues the task when retry is set, else fails it.
func (m *Messaging) end(ctx context.Context, name string, l sdk.Lease, reason string, retry bool) (bool, error) {
	if err := call(ctx, m.Hook, name, l.TaskID); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[name] = append(m.calls[name], l)
	e, err := m.settle(l)
	if err != nil {
		return false, err
	}
	e.err = reason
	if retry {
		return m.requeue(e), nil
	}
	e.status, e.done = sdk.TaskFailed, time.Now()
	return false, nil
}

// requeue puts e back or marks it dead; the caller holds m.mu.
func (m *Messaging) requeue(e *entry) (dead bool) {
	if e.task.MaxAttempts > 0 && e.task.Attempt >= e.task.MaxAttempts {
		e.status, e.done = sdk.TaskDead, time.Now()
		return true
	}
	e.status, e.lease = sdk.TaskPending, ""
	m.queue = append(m.queue, e)
	m.notify()
	return false
}

// Extend records the call and returns a new expiry.
func (m *Messaging) Extend(ctx context.Context, l sdk.Lease, d time.Duration) (time.Time, error) {
	if err := call(ctx, m.Hook, "Extend", l.TaskID); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Extend"] = append(m.calls["Extend"], l)
	if _, err := m.settle(l); err != nil {
		return time.Time{}, err
	}
	return time.Now().Add(d), nil
}

// Result reports what the queue knows of a task (ErrNotFound when nothing).
func (m *Messaging) Result(ctx context.Context, tenant, id string) (sdk.TaskResult, error) {
	if err := call(ctx, m.Hook, "Result", id); err != nil {
		return sdk.TaskResult{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.tasks[key(tenant, id)]
	if !ok {
		return sdk.TaskResult{}, fmt.Errorf("task %s: %w", id, sdk.ErrNotFound)
	}
	return sdk.TaskResult{ID: id, Status: e.status, Result: e.result, Error: e.err, CompletedAt: e.done, Attempts: e.task.Attempt}, nil
}

// Set overwrites what Result reports for a task (creating it if unknown), for tests
// of the host's reading of results.
func (m *Messaging) Set(tenant string, r sdk.TaskResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.tasks[key(tenant, r.ID)]
	if !ok {
		e = &entry{task: sdk.Task{ID: r.ID, Tenant: tenant}}
		m.tasks[key(tenant, r.ID)] = e
	}
	e.status, e.result, e.err, e.done, e.task.Attempt = r.Status, r.Result, r.Error, r.CompletedAt, r.Attempts
}

// Forget drops a task, as a wiped broker would.
func (m *Messaging) Forget(tenant, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tasks, key(tenant, id))
	m.queue = slices.DeleteFunc(m.queue, func(e *entry) bool { return e.task.Tenant == tenant && e.task.ID == id })
}

// Stats counts tasks per command.
func (m *Messaging) Stats(ctx context.Context, tenant string, commands []string) ([]sdk.CommandStats, error) {
	if err := call(ctx, m.Hook, "Stats", ""); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]sdk.CommandStats, 0, len(commands))
	for _, c := range commands {
		s := sdk.CommandStats{Command: c}
		for _, e := range m.tasks {
			if e.task.Command != c || tenant != "" && e.task.Tenant != tenant {
				continue
			}
			switch e.status {
			case sdk.TaskPending:
				s.Pending++
			case sdk.TaskInProgress:
				s.InProgress++
			case sdk.TaskDead:
				s.Dead++
			}
		}
		out = append(out, s)
	}
	return out, nil
}
