-- ack: KEYS task, leased; ARGV id, lease, result, result_ttl_ms, cmd
-- returns 0, or 1 when this lease already acked (a repeated Ack is a no-op)
local f = current(KEYS[1], ARGV[1])
if f.err then return f end
local held = holds(f, ARGV[2], ARGV[5])
if held and f[1] == 'completed' then return 1 end
if not held or f[1] ~= 'in_progress' then return stale(ARGV[1], f, ARGV[2]) end
local now = now_ms()
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'completed', 'result', ARGV[3], 'done', now)
redis.call('HDEL', KEYS[1], 'payload', 'err')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0
