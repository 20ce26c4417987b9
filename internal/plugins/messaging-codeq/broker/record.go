package broker

import (
	"time"
)

// Task statuses, spelled as codeQ spells them on the wire and over REST.
const (
	StatusPending    = "PENDING"
	StatusInProgress = "IN_PROGRESS"
	StatusCompleted  = "COMPLETED"
	StatusFailed     = "FAILED"
	StatusDLQ        = "DLQ"
)

// record is one task with everything the broker knows about it; it is what Pebble stores.
type record struct {
	ID          string `json:"id"`
	Tenant      string `json:"tenant"`
	Command     string `json:"command"`
	Payload     []byte `json:"payload,omitempty"`
	Priority    int32  `json:"priority,omitempty"`
	MaxAttempts int32  `json:"maxAttempts"`
	Attempts    int32  `json:"attempts"`
	Status      string `json:"status"`
	WorkerID    string `json:"workerId,omitempty"`
	LeaseUntil  int64  `json:"leaseUntil,omitempty"` // ms, IN_PROGRESS only
	VisibleAt   int64  `json:"visibleAt,omitempty"`  // ms, PENDING: delayed until then
	IdemKey     string `json:"idemKey,omitempty"`
	Seq         uint64 `json:"seq"`
	CreatedAt   int64  `json:"createdAt"`
	UpdatedAt   int64  `json:"updatedAt"`
	CompletedAt int64  `json:"completedAt,omitempty"`
	Result      []byte `json:"result,omitempty"` // COMPLETED: the JSON object
	Error       string `json:"error,omitempty"`  // FAILED, DLQ: the last error

	indexed bool // in the queue's finished list
}

func (r *record) terminal() bool {
	return r.Status == StatusCompleted || r.Status == StatusFailed || r.Status == StatusDLQ
}

func nowMs() int64 { return time.Now().UnixMilli() }

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// queueKey names one queue: a tenant's command.
type queueKey struct{ tenant, command string }

// readyHeap orders claimable tasks: higher priority first, then oldest first.
type readyHeap []*record

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, j int) bool {
	if h[i].Priority != h[j].Priority {
		return h[i].Priority > h[j].Priority
	}
	return h[i].Seq < h[j].Seq
}
func (h readyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)   { *h = append(*h, x.(*record)) }
func (h *readyHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
