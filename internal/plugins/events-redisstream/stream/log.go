package stream

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/rawjson"
)

// ErrInvalid marks bad input (of kind sdk.ErrInvalid).
var ErrInvalid = sdk.WithKind(sdk.ErrInvalid, errors.New("invalid input"))

// field is the stream entry field holding the envelope JSON.
const field = "e"

// Log is the event log on one Redis server.
type Log struct {
	cfg     Config
	cl      *redisconn.Clients
	compact compactor
}

// New returns a log over connected clients.
func New(cfg Config, cl *redisconn.Clients) *Log { return &Log{cfg: cfg, cl: cl} }

// Key is the stream of one invocation: <prefix>:<tenant>:inv:<id>:events.
func (l *Log) Key(tenant, invocation string) (string, error) {
	if err := redisconn.CheckSegment("tenant", tenant); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := redisconn.CheckSegment("invocation_id", invocation); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return l.cfg.Prefix + ":" + tenant + ":inv:" + invocation + ":events", nil
}

// Publish appends envelopes in one MULTI (XADD MAXLEN ~ each, then PEXPIRE ttl; <= 0:
// the configured ttl) and returns their stream ids in order.
func (l *Log) Publish(ctx context.Context, tenant, invocation string, ttl time.Duration, envs [][]byte) ([]string, error) {
	r := l.PublishBatch(ctx, []sdk.PublishItem{{Tenant: tenant, InvocationID: invocation, TTL: ttl, Envelopes: envs}})[0]
	return r.IDs, r.Err
}

// PublishBatch appends several invocations' envelopes, each as Publish does, in one
// MULTI: one round trip for all. An item that fails its checks, or whose commands
// fail, fails alone.
func (l *Log) PublishBatch(ctx context.Context, items []sdk.PublishItem) []sdk.PublishResult {
	res := make([]sdk.PublishResult, len(items))
	keys := make([]string, len(items))
	send := false
	for i, it := range items {
		keys[i], res[i].Err = l.check(it)
		send = send || res[i].Err == nil && len(it.Envelopes) > 0
	}
	if !send {
		return res
	}
	cmds := make([][]*redis.StringCmd, len(items))
	compacts := make([]*redis.Cmd, len(items))
	// XADD is not idempotent: retry only when Redis certainly applied nothing.
	err := redisconn.RetryIf(ctx, l.cfg.OpRetry.D(), redisconn.NotApplied, func(ctx context.Context) error {
		all, err := l.cl.Cmd.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for i, it := range items {
				if res[i].Err == nil && len(it.Envelopes) > 0 {
					cmds[i], compacts[i] = l.append(ctx, p, keys[i], it)
				}
			}
			return nil
		})
		if err != nil { // a compaction's error is not the publish's
			l.compact.check(compacts)
			err = publishErr(err, all, compacts)
			clear(compacts)
		}
		return err
	})
	for i, it := range items {
		if res[i].Err != nil || len(it.Envelopes) == 0 {
			continue
		}
		if ids, ierr := added(cmds[i], err); ierr != nil {
			res[i].Err = fmt.Errorf("publish %d events of %s: %w", len(it.Envelopes), it.InvocationID, ierr)
		} else {
			res[i].IDs = ids
		}
	}
	return res
}

// added returns the ids of one item's XADDs, or the error that kept one from adding
// (its own, else the MULTI's).
func added(cmds []*redis.StringCmd, multi error) ([]string, error) {
	if len(cmds) == 0 { // never sent
		return nil, cmp.Or(multi, errors.New("not sent"))
	}
	ids := make([]string, len(cmds))
	for j, c := range cmds {
		if c == nil || c.Err() != nil || c.Val() == "" {
			if c != nil && c.Err() != nil {
				return nil, c.Err()
			}
			return nil, cmp.Or(multi, errors.New("no id was returned"))
		}
		ids[j] = c.Val()
	}
	return ids, nil
}

// check returns the key of an item's log, or why the item is refused.
func (l *Log) check(it sdk.PublishItem) (string, error) {
	key, err := l.Key(it.Tenant, it.InvocationID)
	if err != nil {
		return "", err
	}
	for i, e := range it.Envelopes {
		if len(e) > l.cfg.MaxEnvelopeBytes {
			return "", fmt.Errorf("%w: envelope %d of invocation %s is %d bytes, over max_envelope_bytes %d",
				ErrInvalid, i, it.InvocationID, len(e), l.cfg.MaxEnvelopeBytes)
		}
		if !isObject(e) {
			return "", fmt.Errorf("%w: envelope %d of invocation %s is not a JSON object", ErrInvalid, i, it.InvocationID)
		}
	}
	return key, nil
}

// append queues an item's XADDs and its PEXPIRE on p and returns the XADDs. An item
// that ends with done also gets its log compacted (compact.go): the command is
// returned, nil otherwise.
func (l *Log) append(ctx context.Context, p redis.Pipeliner, key string, it sdk.PublishItem) ([]*redis.StringCmd, *redis.Cmd) {
	ttl := it.TTL
	if ttl <= 0 {
		ttl = l.cfg.TTL.D()
	}
	cmds := make([]*redis.StringCmd, len(it.Envelopes))
	for i, e := range it.Envelopes {
		cmds[i] = p.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: l.cfg.MaxLen, Approx: true, Values: []any{field, e}})
	}
	p.PExpire(ctx, key, ttl)
	if isDone(it.Envelopes[len(it.Envelopes)-1]) {
		return cmds, l.compact.queue(ctx, p, key, ttl)
	}
	return cmds, nil
}

// publishErr is the MULTI's error err as the publish sees it: the first error of a
// command other than the compactions, nil when only compactions failed, else err.
func publishErr(err error, cmds []redis.Cmder, compacts []*redis.Cmd) error {
	compacted := false
	for _, c := range cmds {
		if c.Err() == nil {
			continue
		}
		if !slices.ContainsFunc(compacts, func(x *redis.Cmd) bool { return x != nil && redis.Cmder(x) == c }) {
			return c.Err()
		}
		compacted = true
	}
	if compacted {
		return nil
	}
	return err
}

// Event is one stored envelope and its stream id.
type Event struct {
	ID       string
	Envelope []byte
	Done     bool // the envelope is {"type":"done"}
}

// Read calls emit for each event after after ("" or "0": from the start), in order,
// blocking for new ones, until emit has seen the done envelope (nil), ctx ends, or, with
// follow false, the events stored now are exhausted. Blocking reads use the blocking
// pool: one connection per waiting reader, so readers never starve writers.
func (l *Log) Read(ctx context.Context, tenant, invocation, after string, follow bool, emit func(Event) error) error {
	key, err := l.Key(tenant, invocation)
	if err != nil {
		return err
	}
	if after == "" {
		after = "0"
	}
	if after != "0" && !validID(after) {
		return fmt.Errorf("%w: after_id %q is not a stream id (ms-seq)", ErrInvalid, after)
	}
	back := redisconn.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	// Only a reader resuming after an id can be past done already, or past the end; one
	// reading from the start meets done in the stream itself (saves a round trip on
	// every invoke).
	if after != "0" {
		done, err := l.resumeAt(ctx, key, invocation, after)
		if err != nil || done && follow {
			return err
		}
	}
	for {
		args := &redis.XReadArgs{Streams: []string{key, after}, Count: 256, Block: -1}
		cl := l.cl.Cmd
		if follow {
			args.Block, cl = l.cfg.Block.D(), l.cl.Block
		}
		res, err := cl.XRead(ctx, args).Result()
		if errors.Is(err, redis.Nil) {
			if !follow {
				return nil
			}
			if done, err := l.doneBy(ctx, key, after); err != nil || done {
				return err
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if follow && redisconn.IsConnErr(err) {
				redisconn.Sleep(ctx, back.Next())
				continue
			}
			return fmt.Errorf("read events of %s after %s: %w", invocation, after, err)
		}
		back.Reset()
		for _, s := range res {
			for _, m := range s.Messages {
				env := envelopeOf(m.Values)
				ev := Event{ID: m.ID, Envelope: env, Done: isDone(env)}
				if err := emit(ev); err != nil {
					return err
				}
				after = m.ID
				if ev.Done {
					return nil
				}
			}
		}
	}
}

// resumeAt checks a resume point: an id past the log's last event was never given
// (ErrInvalid); done reports whether the log ends with done at or before after.
func (l *Log) resumeAt(ctx context.Context, key, invocation, after string) (done bool, err error) {
	last, err := l.cl.Cmd.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		if redisconn.IsConnErr(err) {
			return false, nil // the follow loop retries through the outage
		}
		return false, fmt.Errorf("read last event of %s: %w", key, err)
	}
	if len(last) == 0 {
		return false, nil // expired, or nothing published yet: nothing to compare with
	}
	if compareIDs(after, last[0].ID) > 0 {
		return false, fmt.Errorf("%w: after_id %s is past the end of the events of %s (the last id is %s)", ErrInvalid, after, invocation, last[0].ID)
	}
	return isDone(envelopeOf(last[0].Values)) && compareIDs(last[0].ID, after) == 0, nil
}

// doneBy reports whether the log's last event is done and at or before after: a
// reader resuming after done has nothing left to wait for.
func (l *Log) doneBy(ctx context.Context, key, after string) (bool, error) {
	last, err := l.cl.Cmd.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		if redisconn.IsConnErr(err) {
			return false, nil // the follow loop retries through the outage
		}
		return false, fmt.Errorf("read last event of %s: %w", key, err)
	}
	if len(last) == 0 || !isDone(envelopeOf(last[0].Values)) {
		return false, nil
	}
	return compareIDs(last[0].ID, after) <= 0, nil
}

// Expire sets the time to live of an invocation's log; 0 means the configured ttl.
func (l *Log) Expire(ctx context.Context, tenant, invocation string, ttl time.Duration) error {
	key, err := l.Key(tenant, invocation)
	if err != nil {
		return err
	}
	if ttl < 0 {
		return fmt.Errorf("%w: ttl_seconds %d is negative", ErrInvalid, int64(ttl.Seconds()))
	}
	if ttl == 0 {
		ttl = l.cfg.TTL.D()
	}
	if err := l.cl.Cmd.PExpire(ctx, key, ttl).Err(); err != nil {
		return fmt.Errorf("expire events of %s: %w", invocation, err)
	}
	return nil
}

func envelopeOf(v map[string]any) []byte {
	if s, ok := v[field].(string); ok {
		return []byte(s)
	}
	return nil
}

// isObject reports whether b is one JSON object (checked without decoding it).
func isObject(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && rawjson.Valid(t)
}

// isDone reports whether b is the done envelope; only an envelope that holds the word
// is decoded.
func isDone(b []byte) bool {
	if !bytes.Contains(b, []byte(`"done"`)) {
		return false
	}
	var e struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(b, &e) == nil && e.Type == "done"
}

// compareIDs orders two stream ids (ms-seq): -1, 0 or 1.
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am != bm:
		return cmp.Compare(am, bm)
	default:
		return cmp.Compare(as, bs)
	}
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

func validID(id string) bool {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		seq = "0"
	}
	return digits(ms) && digits(seq)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
