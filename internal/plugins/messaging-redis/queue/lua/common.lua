-- common: helpers prepended to every script.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- current returns the task's fields, or a NOTFOUND error the driver maps to a gRPC code.
local function current(task, id)
  local f = redis.call('HMGET', task, 'state', 'lease', 'cmd', 'att', 'max', 'score', 'lms')
  if not f[1] then
    return redis.error_reply('NOTFOUND task ' .. id .. ' is unknown (never enqueued, or its record expired)')
  end
  return f
end

-- holds reports whether lease is the task's current lease and cmd its command (the
-- queue keys in KEYS were spelled for cmd).
local function holds(f, lease, cmd)
  return f[2] == lease and f[3] == cmd
end

local function stale(id, f, lease)
  return redis.error_reply('STALE lease ' .. lease .. ' is not the current lease of task ' .. id ..
    ' (state ' .. f[1] .. '): the lease expired and the task was redelivered or finished')
end

-- lease_task leases a stored task to worker for lease_ms as attempt att, under the
-- lease id lease, and returns its expiry.
local function lease_task(task, id, leased, att, lease, lease_ms, worker, now)
  local lexp = now + lease_ms
  redis.call('HSET', task, 'att', att, 'state', 'in_progress', 'lease', lease, 'lexp', lexp, 'lms', lease_ms, 'worker', worker)
  redis.call('ZADD', leased, lexp, id)
  return lexp
end
