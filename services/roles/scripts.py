"""Lua scripts of the assignment ledger. Each runs atomically, so replicas never
over-assign an agent. KEYS[1] is a key of the shop (it routes the call on Redis Cluster);
ARGV[1] is the shop's key prefix `kefu:{S}:R:`, from which every other key of the same
shop (same hash tag, same slot) is built, as BullMQ does.

Every assignment decision is stamped with its cause (`acause`) and recorded under
`cause:<cause>`, so replaying a cause whose outputs were not acked republishes exactly
the decision it made, and a second decision for the same cause is never taken."""

# KEYS: conv key. ARGV: prefix, conv, target ('' = queue), cause, reason, now_ms,
# expect ('*' any, 'free' no agent, 'queued' in the queue, '=<agent>' held by agent),
# queue score, buyer ('' = keep), sticky ttl ms, key ttl ms, cause ttl s.
# Returns {status, agent, reason, at}: status 'ok', 'replay' (this cause decided already),
# 'stale' (expectation not met; a '=<agent>' expectation also drops the conversation from
# that agent's set, repairing an entry whose conversation expired or moved) or 'full'
# (target offline or without free capacity).
ASSIGN = """
local p, c, target, cause, reason, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local conv = KEYS[1]
local cur = redis.call('HMGET', conv, 'agent', 'acause', 'reason', 'at')
local agent = cur[1] or ''
if cur[2] == cause then return {'replay', agent, cur[3] or '', cur[4] or ''} end
local expect = ARGV[7]
local queue = p .. 'queue'
if (expect == 'free' and agent ~= '')
   or (expect == 'queued' and not redis.call('ZSCORE', queue, c))
   or (string.sub(expect, 1, 1) == '=' and agent ~= string.sub(expect, 2)) then
  if string.sub(expect, 1, 1) == '=' then  -- not theirs (any more): not in their set either
    redis.call('SREM', p .. 'agent:' .. string.sub(expect, 2) .. ':convs', c)
  end
  return {'stale', agent, cur[3] or '', cur[4] or ''}
end
local buyer = ARGV[9]
if buyer == '' then buyer = redis.call('HGET', conv, 'buyer') or '' end
if target ~= '' then
  local a = p .. 'agent:' .. target
  local info = redis.call('HMGET', a, 'status', 'max')
  local held = a .. ':convs'
  if info[1] ~= 'online' then return {'full', '', '', ''} end
  if redis.call('SISMEMBER', held, c) == 0
     and redis.call('SCARD', held) >= tonumber(info[2] or '0') then
    return {'full', '', '', ''}
  end
  redis.call('SADD', held, c)
  redis.call('PEXPIRE', held, ARGV[11])
  redis.call('HSET', a, 'idle', now)
  redis.call('PEXPIRE', a, ARGV[11])
  redis.call('ZREM', queue, c)
  if buyer ~= '' then
    local b = p .. 'buyer:' .. buyer
    redis.call('HSET', b, 'agent', target, 'at', now)
    redis.call('PEXPIRE', b, ARGV[10])
  end
else
  redis.call('ZADD', queue, ARGV[8], c)
  redis.call('PEXPIRE', queue, ARGV[11])
end
if agent ~= '' and agent ~= target then
  redis.call('SREM', p .. 'agent:' .. agent .. ':convs', c)
end
redis.call('HSET', conv, 'agent', target, 'reason', reason, 'acause', cause, 'at', now)
if buyer ~= '' then redis.call('HSET', conv, 'buyer', buyer) end
redis.call('PEXPIRE', conv, ARGV[11])
local rec = p .. 'cause:' .. cause
redis.call('SADD', rec, c)
redis.call('EXPIRE', rec, ARGV[12])
return {'ok', target, reason, now}
"""

# KEYS: conv key. ARGV: prefix, conv, cause, key ttl ms. The conversation closed: give its
# capacity back, leave the queue. Returns the agent that held it ('' if none).
RELEASE = """
local p, c = ARGV[1], ARGV[2]
local agent = redis.call('HGET', KEYS[1], 'agent') or ''
if agent ~= '' then redis.call('SREM', p .. 'agent:' .. agent .. ':convs', c) end
redis.call('ZREM', p .. 'queue', c)
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'agent', '', 'reason', '', 'acause', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return agent
"""

# KEYS: agent key. ARGV: prefix, agent, status, max, now_ms, key ttl ms.
# Returns the conversations the agent holds when not online (to hand back), else {}.
PRESENCE = """
local p, id, status = ARGV[1], ARGV[2], ARGV[3]
local a = KEYS[1]
local prev = redis.call('HGET', a, 'status')
redis.call('HSET', a, 'status', status, 'max', ARGV[4])
if status == 'online' and prev ~= 'online' then redis.call('HSET', a, 'idle', ARGV[5]) end
redis.call('PEXPIRE', a, ARGV[6])
redis.call('SADD', p .. 'agents', id)
redis.call('PEXPIRE', p .. 'agents', ARGV[6])
local held = a .. ':convs'
if status ~= 'online' then return redis.call('SMEMBERS', held) end
if redis.call('EXISTS', held) == 1 then redis.call('PEXPIRE', held, ARGV[6]) end
return {}
"""
