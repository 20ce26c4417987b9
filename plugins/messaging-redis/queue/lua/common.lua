-- common: helpers prepended to every script.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function qkey(base, cmd, kind)
  return base .. ':q:' .. cmd .. ':' .. kind
end

-- current returns the task's fields when lease is its current lease, or raises
-- NOTFOUND / STALE errors the driver maps to gRPC codes.
local function current(task, lease, id)
  local f = redis.call('HMGET', task, 'state', 'lease', 'cmd', 'att', 'max', 'score', 'lms')
  if not f[1] then
    return redis.error_reply('NOTFOUND task ' .. id .. ' is unknown (never enqueued, or its record expired)')
  end
  return f
end

local function stale(id, f, lease)
  return redis.error_reply('STALE lease ' .. lease .. ' is not the current lease of task ' .. id ..
    ' (state ' .. f[1] .. '): the lease expired and the task was redelivered or finished')
end
