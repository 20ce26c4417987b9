package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Wait blocks until an enqueue signals one of the tenants' commands or d passes
// (d is rounded to whole milliseconds, at least 10 ms). It holds one connection of the
// blocking pool while it waits.
func (q *Queue) Wait(ctx context.Context, tenants, commands []string, d time.Duration) error {
	err := q.cl.Block.Do(ctx, q.waitArgs(tenants, commands, d)...).Err()
	if isNil(err) {
		return nil
	}
	return err
}

// WaitClaim is Wait, then a Claim of tenant's commands without upkeep, in one round
// trip: the claim is pipelined behind the BLPOP, and Redis runs it the moment the wait
// ends, so a wake-up costs no second trip to the plugin. woke is false when the wait
// timed out (the claim ran all the same).
func (q *Queue) WaitClaim(ctx context.Context, tenants, commands []string, d time.Duration, tenant string, n int, lease time.Duration, worker string) (cl Claimed, woke bool, err error) {
	ks, args := q.claimCall(tenant, commands, n, lease, worker, false)
	var wait, claim *redis.Cmd
	_, _ = q.cl.Block.Pipelined(ctx, func(p redis.Pipeliner) error {
		wait = p.Do(ctx, q.waitArgs(tenants, commands, d)...)
		claim = claimScript.EvalSha(ctx, p, ks, args...)
		return nil
	})
	if err := wait.Err(); err != nil && !isNil(err) {
		return Claimed{}, false, err
	}
	woke = wait.Err() == nil
	res, err := claim.Slice()
	if redis.HasErrorPrefix(err, "NOSCRIPT") { // the server lost its scripts (restart): load it
		res, err = claimScript.Run(ctx, q.cl.Cmd, ks, args...).Slice()
	}
	if err != nil {
		return Claimed{}, woke, fmt.Errorf("claim from %s %v: %w", tenant, commands, err)
	}
	return claimed(tenant, res), woke, nil
}

// waitArgs is the BLPOP of the tenants' commands' ready lists for d (at least 10 ms).
func (q *Queue) waitArgs(tenants, commands []string, d time.Duration) []any {
	d = max(d, 10*time.Millisecond)
	args := make([]any, 0, 2+len(tenants)*len(commands))
	args = append(args, "blpop")
	for _, tn := range tenants {
		k := q.keys(tn)
		for _, c := range commands {
			args = append(args, k.ready(c))
		}
	}
	return append(args, fmt.Sprintf("%.3f", d.Seconds()))
}
