package sdk

import (
	"context"
	"errors"
	"time"
)

// Task is one queued unit of work. Payload is opaque to the driver (JSON in Sous).
type Task struct {
	ID             string // set by the driver on Enqueue when empty
	Tenant         string
	Command        string // the queue, e.g. sous.fn.<tenant>.<function>
	Payload        []byte
	IdempotencyKey string
	Priority       int           // higher first; 0 default
	Delay          time.Duration // schedule this far in the future
	MaxAttempts    int           // 0: driver default
	Attempt        int           // on delivery: 1 for the first claim
	EnqueuedAt     time.Time
}

// Lease names one claim of a task; pass it back to Ack, Fail, Nack and Extend. A stale
// lease (the task was claimed again since) is refused with ErrRefused.
type Lease struct {
	Tenant  string
	TaskID  string
	ID      string
	Expires time.Time
}

// Delivery is a task handed to a consumer under a lease.
type Delivery struct {
	Task  Task
	Lease Lease
}

// Enqueued is the answer to Enqueue.
type Enqueued struct {
	ID        string
	Duplicate bool // the idempotency key matched an earlier task
}

// Subscription says what a consumer takes.
type Subscription struct {
	Commands []string      // explicit list; never empty
	Lease    time.Duration // lease asked for each delivery
	WorkerID string
	Tenant   string // empty: every tenant the driver may serve
}

// Task statuses, as Result reports them.
const (
	TaskPending    = "pending"
	TaskInProgress = "in_progress"
	TaskDelayed    = "delayed"
	TaskCompleted  = "completed"
	TaskFailed     = "failed"
	TaskDead       = "dead"
)

// TaskResult is what the queue knows of a task.
type TaskResult struct {
	ID          string
	Status      string // one of the Task* statuses
	Result      []byte // Ack's result when completed
	Error       string
	CompletedAt time.Time
	Attempts    int
}

// CommandStats counts one command's tasks.
type CommandStats struct {
	Command                            string
	Pending, InProgress, Delayed, Dead int64
}

// Messaging is the queue: at-least-once delivery under leases, with credits.
type Messaging interface {
	Base
	Enqueue(ctx context.Context, t Task) (Enqueued, error)
	// Consume opens a consumer; it ends with ctx or Close.
	Consume(ctx context.Context, s Subscription) (Consumer, error)
	// Ack completes the task with its final record (a JSON object).
	Ack(ctx context.Context, l Lease, result []byte) error
	// Fail ends the attempt; dead reports the task was dead-lettered.
	Fail(ctx context.Context, l Lease, reason string, retryable bool) (dead bool, err error)
	// Nack returns the task for another attempt after delay; dead as for Fail.
	Nack(ctx context.Context, l Lease, delay time.Duration, reason string) (dead bool, err error)
	// Extend pushes the lease's expiry d from now.
	Extend(ctx context.Context, l Lease, d time.Duration) (time.Time, error)
	Result(ctx context.Context, tenant, id string) (TaskResult, error)
	Stats(ctx context.Context, tenant string, commands []string) ([]CommandStats, error)
}

// EnqueueResult is one task's outcome in an EnqueueBatch.
type EnqueueResult struct {
	Enqueued
	Err error
}

// BatchEnqueuer is an optional Messaging method: several Enqueues in one round trip of
// the driver's own, grouped as BatchAcker's acks are. It returns one result per task,
// in order; each task succeeds or fails alone.
type BatchEnqueuer interface {
	EnqueueBatch(ctx context.Context, tasks []Task) []EnqueueResult
}

// AckItem is one Ack of an AckBatch.
type AckItem struct {
	Lease  Lease
	Result []byte
}

// BatchAcker is an optional Messaging method: several Acks in one round trip of the
// driver's own. It returns one error (nil: acked) per item, in order; each item
// succeeds or fails alone. The SDK sends a batch when acks wait behind one on its way;
// a driver without the method gets the items one by one, all at once.
type BatchAcker interface {
	AckBatch(ctx context.Context, items []AckItem) []error
}

// Consumer hands out deliveries. Credits are the SDK's business: Next is asked for at
// most max deliveries (max ≥ 1) and blocks until it has at least one, or ctx ends, or
// the consumer is closed. A driver may return fewer than max (batching is its choice)
// but never more. Over the wire the SDK turns Next into credits, so a consumer never
// holds more unacknowledged deliveries than its caller asked for.
type Consumer interface {
	Next(ctx context.Context, max int) ([]Delivery, error)
	Close() error
}

// Returner is an optional Consumer method: the SDK hands back the deliveries it could
// not send (the stream broke) so the driver can release them at once. Without it their
// leases expire and the tasks are delivered again.
type Returner interface {
	Return(ctx context.Context, ds []Delivery)
}

// ErrConsumerClosed is what Next returns after Close.
var ErrConsumerClosed = errors.New("consumer closed")

// Ender is a Consumer that tells when it has ended (its stream broke, or Close) without
// a call to Next, so a caller whose slots are all busy can still open a new one at
// once. Next then returns why. The consumers NewMessagingClient returns implement it.
type Ender interface {
	Ended() <-chan struct{}
}
