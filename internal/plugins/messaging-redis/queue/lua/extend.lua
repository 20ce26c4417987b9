-- extend: KEYS task, leased; ARGV id, lease, ms (<= 0: the lease length it was claimed with), cmd
-- returns the new lease expiry (ms)
local f = current(KEYS[1], ARGV[1])
if f.err then return f end
if not holds(f, ARGV[2], ARGV[4]) or f[1] ~= 'in_progress' then return stale(ARGV[1], f, ARGV[2]) end
local ms = tonumber(ARGV[3])
if ms <= 0 then ms = tonumber(f[7]) end
local lexp = now_ms() + ms
redis.call('HSET', KEYS[1], 'lexp', lexp)
redis.call('ZADD', KEYS[2], 'XX', lexp, ARGV[1])
return lexp
