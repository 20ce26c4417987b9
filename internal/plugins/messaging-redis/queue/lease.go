package queue

import (
	"context"
	"fmt"
	"strings"
)

// leaseCommand returns the command a lease id was issued for: claim spells lease ids
// <command>/<token>.<n> so that Ack, Fail, Nack and Extend can name the command's queue
// keys in KEYS. A lease id without a command (issued before lease ids carried one, or
// forged) costs one read of the task's command; a wrong one is refused by the script.
func (q *Queue) leaseCommand(ctx context.Context, tenant, id, lease string) (string, error) {
	if cmd, _, ok := strings.Cut(lease, "/"); ok {
		return cmd, nil
	}
	var cmd string
	err := q.retry(ctx, func(ctx context.Context) error {
		var e error
		cmd, e = q.cl.Cmd.HGet(ctx, q.keys(tenant).task(id), "cmd").Result()
		if isNil(e) {
			cmd, e = "", nil // the script reports the unknown task
		}
		return e
	})
	if err != nil {
		return "", fmt.Errorf("read the command of task %s: %w", id, err)
	}
	return cmd, nil
}
