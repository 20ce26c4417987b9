-- claim: for each command, when maintain is 1, promote due scheduled tasks, reclaim
-- expired leases (pending again, or dead at max attempts) and drop old dead ones; then
-- lease up to n pending tasks, best priority first.
-- A command whose pending queue this leaves empty has its wake-up tokens dropped: they
-- stood for tasks claimed now, and would only wake a parked consumer for nothing.
-- KEYS[1] the tenants registry; then per command: pending, scheduled, leased, dead, ready
-- (5 each)
-- ARGV n, lease_ms, lease_token, task_prefix, worker, dead_ttl_ms, maintain (1|0)
-- The task hashes are the one exception to "every key in KEYS": their ids are read from
-- the queues inside the script, so they are spelled from task_prefix, as Asynq's
-- dequeue and forward scripts do.
-- A lease id is <cmd>/<token>.<n>, so Ack, Fail, Nack and Extend can pass the command's
-- queue keys in KEYS.
-- returns {next_wake_ms (-1: nothing due; -2: not maintained, not looked at), tenants (how many the registry holds), then 10 fields per task:
-- id, cmd, payload, prio, max, att, enq, idem, lease, lexp}
local n = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local prefix = ARGV[4]
local dead_ttl = tonumber(ARGV[6])
local maintain = ARGV[7] == '1'
local now = now_ms()
local out = {-2, redis.call('SCARD', KEYS[1])}
local got = 0
local next_wake = -1
for i = 2, #KEYS, 5 do
  local pending, scheduled, leased, dead, ready = KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4]
  if maintain then
    for _, id in ipairs(redis.call('ZRANGE', scheduled, '-inf', now, 'BYSCORE', 'LIMIT', 0, 200)) do
      redis.call('ZREM', scheduled, id)
      local task = prefix .. id
      local score = redis.call('HGET', task, 'score')
      if score then
        redis.call('HSET', task, 'state', 'pending')
        redis.call('ZADD', pending, score, id)
      end
    end
    for _, id in ipairs(redis.call('ZRANGE', leased, '-inf', now, 'BYSCORE', 'LIMIT', 0, 200)) do
      redis.call('ZREM', leased, id)
      local task = prefix .. id
      local f = redis.call('HMGET', task, 'att', 'max', 'score')
      if f[1] then
        if tonumber(f[1]) >= tonumber(f[2]) then
          redis.call('HSET', task, 'state', 'dead', 'done', now,
            'err', 'lease expired on attempt ' .. f[1] .. ' of ' .. f[2] .. ' (worker lost)')
          redis.call('ZADD', dead, now, id)
          redis.call('PEXPIRE', task, dead_ttl)
        else
          redis.call('HSET', task, 'state', 'pending')
          redis.call('ZADD', pending, f[3], id)
        end
      end
    end
    redis.call('ZREMRANGEBYSCORE', dead, '-inf', now - dead_ttl)
  end
  while got < n do
    local want = n - got
    local popped = redis.call('ZPOPMIN', pending, want)
    for j = 1, #popped, 2 do
      local id = popped[j]
      local task = prefix .. id
      local f = redis.call('HMGET', task, 'cmd', 'payload', 'prio', 'max', 'enq', 'idem', 'att')
      if f[1] then -- the task is stored (an expired one leaves its id behind)
        got = got + 1
        local att = (tonumber(f[7]) or 0) + 1
        local lease = f[1] .. '/' .. ARGV[3] .. '.' .. got
        local lexp = lease_task(task, id, leased, att, lease, lease_ms, ARGV[5], now)
        for _, v in ipairs({id, f[1], f[2], f[3], f[4], att, f[5], f[6], lease, lexp}) do
          table.insert(out, v)
        end
      end
    end
    if #popped < 2 * want then
      redis.call('DEL', ready)
      break
    end
  end
  if maintain then
    for _, z in ipairs({scheduled, leased}) do
      local head = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
      if #head > 0 then
        local at = tonumber(head[2])
        if next_wake < 0 or at < next_wake then next_wake = at end
      end
    end
  end
end
if maintain then
  out[1] = -1
  if next_wake >= 0 then out[1] = next_wake - now end
end
return out
