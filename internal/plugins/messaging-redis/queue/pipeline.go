package queue

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/redisconn"
)

// scriptCall is one run of a script: its keys and arguments.
type scriptCall struct {
	keys []string
	args []any
}

// evalEach runs script once per item that prepare accepts, all in one pipeline
// (retried through a Redis outage, so only for idempotent runs), and returns each
// item's reply (nil when it was not sent) and error: prepare's, the pipeline's, or
// the run's own error reply.
func (q *Queue) evalEach(ctx context.Context, script *redis.Script, n int, prepare func(i int) (scriptCall, error)) ([]*redis.Cmd, []error) {
	cmds, errs := make([]*redis.Cmd, n), make([]error, n)
	var sent []int // the items that go out, and so their replies' order
	var calls []scriptCall
	for i := range n {
		c, err := prepare(i)
		if err != nil {
			errs[i] = err
			continue
		}
		sent = append(sent, i)
		calls = append(calls, c)
	}
	if len(sent) == 0 {
		return cmds, errs
	}
	var out []*redis.Cmd
	err := q.retry(ctx, func(ctx context.Context) error {
		var err error
		out, err = q.evalAll(ctx, script, calls)
		return err
	})
	for k, i := range sent {
		if err != nil {
			errs[i] = err
			continue
		}
		cmds[i], errs[i] = out[k], out[k].Err()
	}
	return cmds, errs
}

// evalAll runs script once per call in one pipeline of EVALSHA, loading the script
// first when Redis does not hold it. The error is the pipeline's own (a lost
// connection: retry); each call's reply, error replies included, is in its cmd. Only
// a script whose runs are idempotent may go through it: after a NOSCRIPT the whole
// pipeline runs again.
func (q *Queue) evalAll(ctx context.Context, script *redis.Script, calls []scriptCall) ([]*redis.Cmd, error) {
	for loaded := false; ; loaded = true {
		cmds := make([]*redis.Cmd, len(calls))
		_, err := q.cl.Cmd.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range calls {
				cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
			}
			return nil
		})
		if redisconn.IsConnErr(err) {
			return nil, err
		}
		if loaded || !noScript(cmds) {
			return cmds, nil
		}
		if err := script.Load(ctx, q.cl.Cmd).Err(); err != nil {
			return nil, fmt.Errorf("load script: %w", err)
		}
	}
}

// noScript reports whether a reply says Redis does not hold the script.
func noScript(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if c.Err() != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}
