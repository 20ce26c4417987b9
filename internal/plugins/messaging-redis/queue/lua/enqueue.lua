-- enqueue: KEYS task, idem, pending, scheduled, ready, commands, tenants, seq, new_tenant,
-- leased
-- ARGV id, cmd, payload, prio, max, delay_ms, idem_key, idem_ttl_ms, tenant, call,
-- worker, lease_ms, lease_token
-- (call is unique per Enqueue call: a retry of the same call that finds its own task
-- already stored is not a duplicate)
-- With a worker (a consumer waiting for this command), a task due now is leased to it
-- at once, as claim leases (lease id <cmd>/<lease_token>.1), instead of queued with a
-- wake-up token.
-- returns {id, duplicate(0|1)}, and {id, 0, lease, lexp} when leased
-- The task of another id was stored by another call (a call keeps its id across retries).
-- A retry of a call that leased its task gets the lease it made.
local function dup(id)
  if id ~= ARGV[1] then return {id, 1} end
  local f = redis.call('HMGET', KEYS[1], 'call', 'state', 'worker', 'lease', 'lexp')
  if f[1] ~= ARGV[10] then return {id, 1} end
  if ARGV[11] ~= '' and f[2] == 'in_progress' and f[3] == ARGV[11] then return {id, 0, f[4], tonumber(f[5])} end
  return {id, 0}
end
if ARGV[7] ~= '' then
  local prev = redis.call('GET', KEYS[2])
  if prev then return dup(prev) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return dup(ARGV[1]) end
local now = now_ms()
local seq = redis.call('INCR', KEYS[8])
local score = -tonumber(ARGV[4]) * 1000000000000 + seq
local delay = tonumber(ARGV[6])
local state = 'pending'
if delay > 0 then state = 'delayed' end
redis.call('HSET', KEYS[1], 'cmd', ARGV[2], 'payload', ARGV[3], 'prio', ARGV[4], 'max', ARGV[5],
  'att', 0, 'enq', now, 'idem', ARGV[7], 'score', score, 'call', ARGV[10], 'state', state)
local out = {ARGV[1], 0}
if delay > 0 then
  redis.call('ZADD', KEYS[4], now + delay, ARGV[1])
elseif ARGV[11] ~= '' then
  local lease = ARGV[2] .. '/' .. ARGV[13] .. '.1'
  out = {ARGV[1], 0, lease, lease_task(KEYS[1], ARGV[1], KEYS[10], 1, lease, tonumber(ARGV[12]), ARGV[11], now)}
else
  redis.call('ZADD', KEYS[3], score, ARGV[1])
  redis.call('RPUSH', KEYS[5], '1')
  redis.call('LTRIM', KEYS[5], -16, -1)
end
redis.call('SADD', KEYS[6], ARGV[2])
if redis.call('SADD', KEYS[7], ARGV[9]) == 1 then
  redis.call('RPUSH', KEYS[9], '1')
  redis.call('LTRIM', KEYS[9], -16, -1)
end
-- A key that is the task's own id needs no mapping: the task hash stands for it (the
-- EXISTS above) for as long as the task is stored.
if ARGV[7] ~= '' and ARGV[7] ~= ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[8])
end
return out
