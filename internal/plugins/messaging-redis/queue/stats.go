package queue

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
)

// Stats counts tasks per command: pending, in progress (leased), delayed (scheduled or
// waiting for a retry) and dead. An empty tenant sums over every tenant; no commands
// means every command the tenant(s) ever enqueued.
func (q *Queue) Stats(ctx context.Context, tenant string, commands []string) ([]sdk.CommandStats, error) {
	tenants := []string{tenant}
	if tenant == "" {
		ts, err := q.Tenants(ctx)
		if err != nil {
			return nil, err
		}
		tenants = ts
	} else if err := redisconn.CheckSegment("tenant", tenant); err != nil {
		return nil, invalid("%v", err)
	}
	for _, c := range commands {
		if err := redisconn.CheckSegment("command", c); err != nil {
			return nil, invalid("%v", err)
		}
	}
	byCmd := map[string]*sdk.CommandStats{}
	for _, c := range commands {
		byCmd[c] = &sdk.CommandStats{Command: c}
	}
	for _, tn := range tenants {
		if err := q.statsOf(ctx, tn, commands, byCmd); err != nil {
			return nil, err
		}
	}
	out := make([]sdk.CommandStats, 0, len(byCmd))
	for _, s := range byCmd {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Command < out[j].Command })
	return out, nil
}

func (q *Queue) statsOf(ctx context.Context, tenant string, commands []string, byCmd map[string]*sdk.CommandStats) error {
	k := q.keys(tenant)
	cmds := commands
	if len(cmds) == 0 {
		all, err := q.cl.Cmd.SMembers(ctx, k.commands()).Result()
		if err != nil {
			return fmt.Errorf("stats of %s: list commands: %w", tenant, err)
		}
		cmds = all
	}
	counts := make([][4]*redis.IntCmd, len(cmds))
	_, err := q.cl.Cmd.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range cmds {
			counts[i] = [4]*redis.IntCmd{p.ZCard(ctx, k.pending(c)), p.ZCard(ctx, k.leased(c)),
				p.ZCard(ctx, k.scheduled(c)), p.ZCard(ctx, k.dead(c))}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stats of %s: %w", tenant, err)
	}
	for i, c := range cmds {
		s := byCmd[c]
		if s == nil {
			s = &sdk.CommandStats{Command: c}
			byCmd[c] = s
		}
		s.Pending += counts[i][0].Val()
		s.InProgress += counts[i][1].Val()
		s.Delayed += counts[i][2].Val()
		s.Dead += counts[i][3].Val()
	}
	return nil
}

// Tenants lists every tenant that ever enqueued.
func (q *Queue) Tenants(ctx context.Context) ([]string, error) {
	return q.tenants(ctx, false)
}

// ConsumerTenants is Tenants for a consumer of every tenant: the new-tenant tokens it
// answers are dropped first, so that consumer's Wait is woken only by a tenant
// registered after this list (which leaves a token).
func (q *Queue) ConsumerTenants(ctx context.Context) ([]string, error) {
	return q.tenants(ctx, true)
}

func (q *Queue) tenants(ctx context.Context, clear bool) ([]string, error) {
	var members *redis.StringSliceCmd
	_, err := q.cl.Cmd.Pipelined(ctx, func(p redis.Pipeliner) error {
		if clear {
			p.Del(ctx, newTenantKey(q.cfg.Prefix))
		}
		members = p.SMembers(ctx, tenantsKey(q.cfg.Prefix))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	ts := members.Val()
	sort.Strings(ts)
	return ts, nil
}

// Wait blocks until an enqueue signals one of the tenants' commands or d passes
// (d is rounded to whole milliseconds, at least 10 ms). With every (a consumer of
// every tenant) it also wakes when the registry gains a tenant, and reports it:
// newTenant says to list the tenants again. It holds one connection of the blocking
// pool while it waits.
func (q *Queue) Wait(ctx context.Context, tenants, commands []string, every bool, d time.Duration) (newTenant bool, err error) {
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	args := make([]any, 0, 3+len(tenants)*len(commands))
	args = append(args, "blpop")
	for _, tn := range tenants {
		k := q.keys(tn)
		for _, c := range commands {
			args = append(args, k.ready(c))
		}
	}
	if every {
		args = append(args, newTenantKey(q.cfg.Prefix))
	}
	args = append(args, fmt.Sprintf("%.3f", d.Seconds()))
	got, err := q.cl.Block.Do(ctx, args...).StringSlice()
	if isNil(err) {
		return false, nil
	}
	if err == nil && ctx.Err() != nil && len(got) == 2 {
		// The waiter left while the blocking pop ran to its end (go-redis does not cut
		// it short): its token stands for a task nobody claimed, so it goes back for the
		// consumer that replaced this one, which would otherwise sleep until maxWait.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = q.cl.Cmd.RPush(bctx, got[0], got[1]).Err()
	}
	return err == nil && len(got) == 2 && got[0] == newTenantKey(q.cfg.Prefix), err
}
