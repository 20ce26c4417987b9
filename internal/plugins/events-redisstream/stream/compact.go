package stream

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// compactMaxBytes is the largest log rewritten at its end (Redis's own estimate of the
// key's memory). A larger log has more nodes, of which only the last is oversized.
const compactMaxBytes = 16 << 10

// compactScript rewrites a finished invocation's small log at its exact size, with its
// TTL: Redis gives a new stream a first node of stream-node-max-bytes (4 KiB by
// default) before it holds anything, kept until the key expires (an invocation's three
// events held 4.7 KB for ttl, 0.95 KB rewritten). DUMP and RESTORE keep the entries,
// their ids and the last id, so a later XADD still takes a greater one and a reader
// blocked on the key wakes to the same entries. The 4 KiB go back to the allocator at
// once, where the next invocation's stream takes them: no new memory to fault in.
// KEYS[1] the log; ARGV[1] its TTL (ms); ARGV[2] compactMaxBytes.
// Returns 1 when rewritten, 0 when left (missing, or too large).
var compactScript = redis.NewScript(`local k=KEYS[1]
local u=redis.call('MEMORY','USAGE',k)
if not u or u>tonumber(ARGV[2]) then return 0 end
redis.call('RESTORE',k,ARGV[1],redis.call('DUMP',k),'REPLACE')
return 1`)

// compactPause is how long compaction stays off after Redis refused it (a server
// without scripting, a user without DUMP or RESTORE, a busy script): logs keep their
// size meanwhile, and nothing else changes.
const compactPause = time.Minute

// compactor queues the rewrite of finished logs, except for compactPause after Redis
// refused one.
type compactor struct {
	offUntil atomic.Int64 // unix nanoseconds
}

// queue adds the rewrite of key to p, behind its PEXPIRE (which stands when the script
// fails), and returns the command, or nil while compaction is off or for a TTL under a
// millisecond (RESTORE reads 0 as none).
func (c *compactor) queue(ctx context.Context, p redis.Pipeliner, key string, ttl time.Duration) *redis.Cmd {
	if ttl < time.Millisecond || time.Now().UnixNano() < c.offUntil.Load() {
		return nil
	}
	return compactScript.Eval(ctx, p, []string{key}, ttl.Milliseconds(), compactMaxBytes)
}

// check pauses compaction when one of cmds came back with an error from Redis.
func (c *compactor) check(cmds []*redis.Cmd) {
	for _, cmd := range cmds {
		var rerr redis.Error
		if cmd != nil && errors.As(cmd.Err(), &rerr) {
			c.offUntil.Store(time.Now().Add(compactPause).UnixNano())
			return
		}
	}
}
