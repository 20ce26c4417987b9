-- release ends a lease without success. mode 'fail': terminal failure. mode 'retry':
-- back to the queue after delay_ms (<= 0: backoff base * 2^(attempt-1) up to max), or
-- dead when the task has used its attempts.
-- KEYS task, leased, scheduled, dead
-- ARGV id, lease, mode, err, delay_ms, backoff_base_ms, backoff_max_ms, result_ttl_ms,
-- dead_ttl_ms, cmd
-- returns the new state: failed | delayed | dead
local f = current(KEYS[1], ARGV[1])
if f.err then return f end
local held = holds(f, ARGV[2], ARGV[10])
if held and (f[1] == 'failed' or f[1] == 'dead' or f[1] == 'delayed') then return f[1] end
if not held or f[1] ~= 'in_progress' then return stale(ARGV[1], f, ARGV[2]) end
local now = now_ms()
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'err', ARGV[4])
if ARGV[3] == 'fail' then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'done', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
  return 'failed'
end
if tonumber(f[4]) >= tonumber(f[5]) then
  redis.call('HSET', KEYS[1], 'state', 'dead', 'done', now)
  redis.call('ZADD', KEYS[4], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  return 'dead'
end
local delay = tonumber(ARGV[5])
if delay <= 0 then
  delay = tonumber(ARGV[6]) * 2 ^ (tonumber(f[4]) - 1)
  if delay > tonumber(ARGV[7]) then delay = tonumber(ARGV[7]) end
end
redis.call('HSET', KEYS[1], 'state', 'delayed')
redis.call('ZADD', KEYS[3], now + delay, ARGV[1])
return 'delayed'
