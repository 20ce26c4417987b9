-- unlease: put back a task whose delivery never reached a worker (the consumer's stream
-- ended between the claim and the send): pending again at once, the claim's attempt not
-- counted, and a wake-up token for a parked consumer.
-- KEYS task, leased, pending, ready
-- ARGV id, lease, cmd
-- returns 1 when put back, 0 when the lease is no longer the task's
local f = redis.call('HMGET', KEYS[1], 'state', 'lease', 'cmd', 'att', 'max', 'score')
if f[1] ~= 'in_progress' or not holds(f, ARGV[2], ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'att', -1)
redis.call('HSET', KEYS[1], 'state', 'pending')
redis.call('ZADD', KEYS[3], f[6], ARGV[1])
redis.call('RPUSH', KEYS[4], '1')
redis.call('LTRIM', KEYS[4], -16, -1)
return 1
