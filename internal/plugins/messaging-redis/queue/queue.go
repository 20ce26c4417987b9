package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
)

// MaxPriority bounds Task.priority (both signs) so that priority and FIFO order fit
// one exact sorted-set score.
const MaxPriority = 1000

// Queue is the task queue on one Redis server.
type Queue struct {
	cfg Config
	cl  *redisconn.Clients
}

// New returns a queue over connected clients.
func New(cfg Config, cl *redisconn.Clients) *Queue { return &Queue{cfg: cfg, cl: cl} }

// Config returns the queue's config.
func (q *Queue) Config() Config { return q.cfg }

// retry runs op through a Redis outage of up to op_retry; only idempotent ops use it.
func (q *Queue) retry(ctx context.Context, op func(context.Context) error) error {
	return redisconn.Retry(ctx, q.cfg.OpRetry.D(), op)
}

func (q *Queue) keys(tenant string) keys { return keysFor(q.cfg.Prefix, tenant) }

// NewID returns a random task id.
func NewID() string { return token(12) }

func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Enqueue stores a task and returns its id; duplicate is true when the idempotency key
// (or the given id) names a task already stored. A retried Enqueue is safe: the id is
// chosen before the first try.
func (q *Queue) Enqueue(ctx context.Context, t sdk.Task) (id string, duplicate bool, err error) {
	r := q.EnqueueBatch(ctx, []sdk.Task{t})[0]
	return r.ID, r.Duplicate, r.Err
}

// EnqueueBatch stores several tasks, each as Enqueue does, in one pipeline: one round
// trip for all. A task fails alone.
func (q *Queue) EnqueueBatch(ctx context.Context, ts []sdk.Task) []sdk.EnqueueResult {
	res := make([]sdk.EnqueueResult, len(ts))
	cmds, errs := q.evalEach(ctx, enqueueScript, len(ts), func(i int) (scriptCall, error) {
		c, err := q.enqueueCall(ts[i], nil)
		if err == nil {
			res[i].ID = c.args[0].(string)
		}
		return c, err
	})
	for i, t := range ts {
		res[i], _ = enqueued(t, res[i].ID, cmds[i], errs[i])
	}
	return res
}

// enqueued reads one run of the enqueue script for task t sent as id ("": refused
// before it was sent, with err): its result, and the script's whole answer.
func enqueued(t sdk.Task, id string, cmd *redis.Cmd, err error) (sdk.EnqueueResult, []any) {
	var out []any
	if err == nil {
		if out, err = cmd.Slice(); err == nil && len(out) < 2 {
			err = fmt.Errorf("the enqueue script answered %v", out)
		}
	}
	switch {
	case err != nil && id == "":
		return sdk.EnqueueResult{Err: err}, nil
	case err != nil:
		return sdk.EnqueueResult{Err: fmt.Errorf("enqueue %s on %s: %w", id, t.Command, err)}, nil
	}
	return sdk.EnqueueResult{Enqueued: sdk.Enqueued{ID: str(out[0]), Duplicate: num(out[1]) == 1}}, out
}

// enqueueCall checks a task and returns its run of the enqueue script, with the id
// (its first argument) chosen when the task has none; with to, a task due now is leased
// to to's worker.
func (q *Queue) enqueueCall(t sdk.Task, to *Taker) (scriptCall, error) {
	if err := redisconn.CheckSegment("tenant", t.Tenant); err != nil {
		return scriptCall{}, invalid("%v", err)
	}
	if err := redisconn.CheckSegment("command", t.Command); err != nil {
		return scriptCall{}, invalid("%v", err)
	}
	id := t.ID
	if id == "" {
		id = NewID()
	} else if err := redisconn.CheckSegment("task id", id); err != nil {
		return scriptCall{}, invalid("%v", err)
	}
	if len(t.Payload) > q.cfg.MaxPayloadBytes {
		return scriptCall{}, invalid("payload of task %s is %d bytes, over max_payload_bytes %d: send less or raise %s.max_payload_bytes",
			id, len(t.Payload), q.cfg.MaxPayloadBytes, Section)
	}
	if t.Priority > MaxPriority || t.Priority < -MaxPriority {
		return scriptCall{}, invalid("priority %d is out of range -%d..%d", t.Priority, MaxPriority, MaxPriority)
	}
	delayMs := t.Delay.Milliseconds()
	if delayMs < 0 {
		return scriptCall{}, invalid("delay_ms %d is negative", delayMs)
	}
	if t.MaxAttempts < 0 {
		return scriptCall{}, invalid("max_attempts %d is negative (0 means the driver default)", t.MaxAttempts)
	}
	if len(t.IdempotencyKey) > 1024 {
		return scriptCall{}, invalid("idempotency_key is %d bytes, at most 1024", len(t.IdempotencyKey))
	}
	maxAtt := t.MaxAttempts
	if maxAtt == 0 {
		maxAtt = q.cfg.MaxAttempts
	}
	k := q.keys(t.Tenant)
	idem := ""
	if t.IdempotencyKey != "" {
		idem = hex.EncodeToString([]byte(t.IdempotencyKey))
	}
	worker, leaseMs := "", int64(0)
	if to != nil {
		worker, leaseMs = to.Worker, to.Lease.Milliseconds()
	}
	// call is unique per Enqueue: a retry that finds its own task is not a duplicate.
	return scriptCall{
		keys: []string{k.task(id), k.idem(idem), k.pending(t.Command), k.scheduled(t.Command),
			k.ready(t.Command), k.commands(), tenantsKey(q.cfg.Prefix), k.seq(), newTenantKey(q.cfg.Prefix),
			k.leased(t.Command)},
		args: []any{id, t.Command, t.Payload, t.Priority, maxAtt, delayMs, t.IdempotencyKey,
			q.cfg.IdempotencyTTL.D().Milliseconds(), t.Tenant, token(8), worker, leaseMs, token(8)},
	}, nil
}

// Claimed is what one Claim leased and saw.
type Claimed struct {
	Tasks []sdk.Delivery
	// Wake is how long until the next scheduled task or lease expiry is due (-1: none;
	// -2: not looked at, the claim did no upkeep).
	Wake time.Duration
	// Tenants is how many tenants the registry holds (to tell a consumer of every
	// tenant that its list is out of date).
	Tenants int
}

// Claim leases up to n pending tasks of the tenant's commands for lease; with upkeep it
// first promotes due delayed tasks, reclaims expired leases and drops old dead ones.
// Fewer than n means every one of the commands' pending queues is empty, and their
// wake-up tokens are dropped: the next token is a later Enqueue's.
func (q *Queue) Claim(ctx context.Context, tenant string, commands []string, n int, lease time.Duration, worker string, upkeep bool) (Claimed, error) {
	k := q.keys(tenant)
	ks := make([]string, 0, 1+5*len(commands))
	ks = append(ks, tenantsKey(q.cfg.Prefix))
	for _, c := range commands {
		ks = append(ks, k.pending(c), k.scheduled(c), k.leased(c), k.dead(c), k.ready(c))
	}
	maintain := 0
	if upkeep {
		maintain = 1
	}
	res, err := claimScript.Run(ctx, q.cl.Cmd, ks, n, lease.Milliseconds(), token(8), k.taskPrefix(),
		worker, q.cfg.DeadTTL.D().Milliseconds(), maintain).Slice()
	if err != nil {
		return Claimed{}, fmt.Errorf("claim from %s %v: %w", tenant, commands, err)
	}
	out := Claimed{Wake: time.Duration(num(res[0])), Tenants: int(num(res[1]))}
	if out.Wake >= 0 {
		out.Wake *= time.Millisecond
	}
	for i := 2; i+10 <= len(res); i += 10 {
		f := res[i : i+10]
		id := str(f[0])
		out.Tasks = append(out.Tasks, sdk.Delivery{
			Task: sdk.Task{
				ID: id, Tenant: tenant, Command: str(f[1]), Payload: []byte(str(f[2])),
				Priority: int(num(f[3])), MaxAttempts: int(num(f[4])), Attempt: int(num(f[5])),
				EnqueuedAt: unixMs(num(f[6])), IdempotencyKey: str(f[7]),
			},
			Lease: sdk.Lease{Tenant: tenant, TaskID: id, ID: str(f[8]), Expires: unixMs(num(f[9]))},
		})
	}
	return out, nil
}

// Fail ends a lease with an error: terminal, or retried with backoff until max attempts
// (then dead). It returns the new state: failed, delayed or dead.
func (q *Queue) Fail(ctx context.Context, tenant, id, lease, msg string, retryable bool) (string, error) {
	mode := "fail"
	if retryable {
		mode = "retry"
	}
	st, err := q.release(ctx, tenant, id, lease, mode, msg, 0)
	if err != nil {
		return "", fmt.Errorf("fail %s: %w", id, err)
	}
	return st, nil
}

// Nack returns a leased task to the queue after delay (<= 0: backoff); dead when it
// has used its attempts.
func (q *Queue) Nack(ctx context.Context, tenant, id, lease, reason string, delay time.Duration) (string, error) {
	st, err := q.release(ctx, tenant, id, lease, "retry", reason, delay.Milliseconds())
	if err != nil {
		return "", fmt.Errorf("nack %s: %w", id, err)
	}
	return st, nil
}

func (q *Queue) release(ctx context.Context, tenant, id, lease, mode, msg string, delayMs int64) (string, error) {
	if err := checkRef(tenant, id); err != nil {
		return "", err
	}
	cmd, err := q.leaseCommand(ctx, tenant, id, lease)
	if err != nil {
		return "", err
	}
	k := q.keys(tenant)
	ks := []string{k.task(id), k.leased(cmd), k.scheduled(cmd), k.dead(cmd)}
	var st string
	err = q.retry(ctx, func(ctx context.Context) error {
		var e error
		st, e = releaseScript.Run(ctx, q.cl.Cmd, ks, id, lease, mode, msg, delayMs,
			q.cfg.BackoffBase.D().Milliseconds(), q.cfg.BackoffMax.D().Milliseconds(),
			q.cfg.ResultTTL.D().Milliseconds(), q.cfg.DeadTTL.D().Milliseconds(), cmd).Text()
		return e
	})
	return st, scriptErr(err)
}

// Unlease puts back a task claimed under lease whose delivery never reached a worker:
// pending again at once, its attempt not counted, parked consumers woken. A lease that
// is no longer the task's is left alone.
func (q *Queue) Unlease(ctx context.Context, tenant, id, lease string) error {
	if err := checkRef(tenant, id); err != nil {
		return err
	}
	cmd, err := q.leaseCommand(ctx, tenant, id, lease)
	if err != nil {
		return err
	}
	k := q.keys(tenant)
	ks := []string{k.task(id), k.leased(cmd), k.pending(cmd), k.ready(cmd)}
	err = q.retry(ctx, func(ctx context.Context) error {
		return unleaseScript.Run(ctx, q.cl.Cmd, ks, id, lease, cmd).Err()
	})
	if err != nil {
		return fmt.Errorf("put back %s: %w", id, scriptErr(err))
	}
	return nil
}

// Extend moves the lease expiry d into the future (<= 0: the original lease length)
// and returns the new expiry in Unix ms.
func (q *Queue) Extend(ctx context.Context, tenant, id, lease string, d time.Duration) (int64, error) {
	if err := checkRef(tenant, id); err != nil {
		return 0, err
	}
	cmd, err := q.leaseCommand(ctx, tenant, id, lease)
	if err != nil {
		return 0, fmt.Errorf("extend %s: %w", id, err)
	}
	k := q.keys(tenant)
	var exp int64
	err = q.retry(ctx, func(ctx context.Context) error {
		var e error
		exp, e = extendScript.Run(ctx, q.cl.Cmd, []string{k.task(id), k.leased(cmd)}, id, lease, d.Milliseconds(), cmd).Int64()
		return e
	})
	if err != nil {
		return 0, fmt.Errorf("extend %s: %w", id, scriptErr(err))
	}
	return exp, nil
}

// Get returns a task's status and outcome.
func (q *Queue) Get(ctx context.Context, tenant, id string) (sdk.TaskResult, error) {
	if err := checkRef(tenant, id); err != nil {
		return sdk.TaskResult{}, err
	}
	var h map[string]string
	err := q.retry(ctx, func(ctx context.Context) error {
		var e error
		h, e = q.cl.Cmd.HGetAll(ctx, q.keys(tenant).task(id)).Result()
		return e
	})
	if err != nil {
		return sdk.TaskResult{}, fmt.Errorf("get result %s: %w", id, err)
	}
	if len(h) == 0 || h["state"] == "" {
		return sdk.TaskResult{}, fmt.Errorf("%w: task %s of tenant %s is unknown (never enqueued, or its record expired)", ErrNotFound, id, tenant)
	}
	att, _ := strconv.Atoi(h["att"])
	done, _ := strconv.ParseInt(h["done"], 10, 64)
	return sdk.TaskResult{ID: id, Status: h["state"], Result: []byte(h["result"]),
		Error: h["err"], CompletedAt: unixMs(done), Attempts: att}, nil
}

func checkRef(tenant, id string) error {
	if err := redisconn.CheckSegment("tenant", tenant); err != nil {
		return invalid("%v", err)
	}
	if err := redisconn.CheckSegment("task id", id); err != nil {
		return invalid("%v", err)
	}
	return nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// unixMs is a time in Unix milliseconds; 0 is the zero time.
func unixMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// isNil reports a redis nil reply.
func isNil(err error) bool { return errors.Is(err, redis.Nil) }
