"""Lua scripts of the role services, one call per shop per batch step. Each runs
atomically on one shop's keys (one hash tag, one Redis Cluster slot): KEYS[1] is a key
of the shop, ARGV[1] the shop's key prefix `kefu:{S}:R:` from which the others are
built, as BullMQ does. One call per shop, not one command per key: parsing a reply costs
redis-py far more than Redis costs to run the command.

LOAD reads what a batch needs of a shop; RESERVE applies the batch's capacity
decisions in order, each checked against the board as it is then, so replicas never
over-assign an agent; WRITE stores the batch's changes once its outputs were acked.
Every capacity decision is stamped with its cause (`acause` on the conversation, and
the set `cause:<cause>` of the conversations it touched), so a cause decides once: a
redelivery gets its decision back ('replay')."""

_AGENTS = """
local function board(p)
  local out, gone, free = {}, {}, 0
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'agents')) do
    local a = p .. 'agent:' .. id
    local info = redis.call('HMGET', a, 'status', 'max', 'idle')
    if not info[1] then
      gone[#gone + 1] = id
    else
      local load = redis.call('SCARD', a .. ':convs')
      local max = tonumber(info[2] or '0') or 0
      out[#out + 1] = id
      out[#out + 1] = info[1]
      out[#out + 1] = max
      out[#out + 1] = tonumber(info[3] or '0') or 0
      out[#out + 1] = load
      if info[1] == 'online' and max > load then free = free + max - load end
    end
  end
  if #gone > 0 then redis.call('SREM', p .. 'agents', unpack(gone)) end
  return out, free
end
"""

# ARGV: prefix, then five counted lists: event ids (dedup marks), conversations, subjects
# (kind, id pairs), and, for the board, buyers (sticky agents) and causes (recorded
# decisions); then `extra`, or '' for no board.
# Returns {seen: 0/1 per event id, convs: the 11 fields of each conversation (keys.py), clocks: the
# HGETALL of each subject's clocks, board: {agents: [id, status, max, idle, load]...,
# queue: [conv, score, buyer, sticky agent, sticky at]... (as many as the free capacity
# plus `extra`), stickies: [buyer, agent, at]..., decisions: [cause, conv, agent,
# reason, at]...} or {} }
LOAD = _AGENTS + """
local p = ARGV[1]
local i = 2
local function list()
  local n = tonumber(ARGV[i])
  local out = {}
  for j = i + 1, i + n do out[#out + 1] = ARGV[j] end
  i = i + n + 1
  return out
end
local ids, convs, subjects, buyers, causes = list(), list(), list(), list(), list()
local extra = ARGV[i]
local function prefixed(prefix, names)
  local out = {}
  for j, name in ipairs(names) do out[j] = prefix .. name end
  return out
end
-- 1 or 0 per key; a chunk of keys none (or all) of which exist costs one call: most
-- event ids are new, most causes have decided nothing yet
local function exist_each(keys)
  local out = {}
  for from = 1, #keys, 1000 do
    local to = math.min(from + 999, #keys)
    local found = redis.call('EXISTS', unpack(keys, from, to))
    for j = from, to do
      if found == 0 then out[j] = 0
      elseif found == to - from + 1 then out[j] = 1
      else out[j] = redis.call('EXISTS', keys[j]) end
    end
  end
  return out
end
local states, clocks = {}, {}
local seen = exist_each(prefixed(p .. 'seen:', ids))
for _, c in ipairs(convs) do
  local f = redis.call('HMGET', p .. 'conv:' .. c, 'agent', 'reason', 'acause', 'at', 'buyer',
                       'priority', 'opened', 'answered', 'trace', 'complained', 'clock')
  for k = 1, 11 do states[#states + 1] = f[k] or '' end
end
for j = 1, #subjects, 2 do
  local key = p .. 'clock:' .. subjects[j] .. ':' .. subjects[j + 1]
  clocks[#clocks + 1] = redis.call('HGETALL', key)
end
if extra == '' then return {seen, states, clocks, {}} end
local agents, free = board(p)
local queue, stickies, decisions = {}, {}, {}
local function sticky(buyer)
  if buyer == '' then return '', '' end
  local s = redis.call('HMGET', p .. 'buyer:' .. buyer, 'agent', 'at')
  return s[1] or '', s[2] or ''
end
local n = free + tonumber(extra)
if n > 0 then
  local head = redis.call('ZRANGE', p .. 'queue', 0, n - 1, 'WITHSCORES')
  for j = 1, #head, 2 do
    local buyer = redis.call('HGET', p .. 'conv:' .. head[j], 'buyer') or ''
    local agent, at = sticky(buyer)
    for _, v in ipairs({head[j], head[j + 1], buyer, agent, at}) do queue[#queue + 1] = v end
  end
end
for _, buyer in ipairs(buyers) do
  local agent, at = sticky(buyer)
  if agent ~= '' then
    for _, v in ipairs({buyer, agent, at}) do stickies[#stickies + 1] = v end
  end
end
local recorded = prefixed(p .. 'cause:', causes)
for j, exists in ipairs(exist_each(recorded)) do
  local cause = causes[j]
  for _, c in ipairs(exists == 1 and redis.call('SMEMBERS', recorded[j]) or {}) do
    local d = redis.call('HMGET', p .. 'conv:' .. c, 'agent', 'reason', 'acause', 'at')
    if d[3] == cause and d[2] and d[2] ~= '' then
      for _, v in ipairs({cause, c, d[1] or '', d[2], d[4] or '0'}) do
        decisions[#decisions + 1] = v
      end
    end
  end
end
return {seen, states, clocks, {agents, queue, stickies, decisions}}
"""

# ARGV: prefix, now ms, key ttl ms, cause ttl s, sticky ttl ms, then reservations:
#   'A', conv, target ('' = queue), cause, reason, expect, score, buyer
#   'R', conv, cause
#   'P', agent, status, max
# Returns {answers[, agents]}: per reservation, A -> {status, agent, reason, at},
# R -> {freed agent}, P -> {conv, priority, opened, buyer}... to hand back; then, when
# something must be decided again (an answer 'full', conversations to hand back), the
# board after them as LOAD gives it.
RESERVE = _AGENTS + """
local p, now, kttl, cttl, sttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local queue = p .. 'queue'

local function assign(c, target, cause, reason, expect, score, buyer)
  local conv = p .. 'conv:' .. c
  local cur = redis.call('HMGET', conv, 'agent', 'acause', 'reason', 'at')
  local agent = cur[1] or ''
  if cur[2] == cause then return {'replay', agent, cur[3] or '', cur[4] or ''} end
  if (expect == 'free' and agent ~= '')
     or (expect == 'queued' and not redis.call('ZSCORE', queue, c))
     or (string.sub(expect, 1, 1) == '=' and agent ~= string.sub(expect, 2)) then
    if string.sub(expect, 1, 1) == '=' then  -- not theirs (any more): not in their set either
      redis.call('SREM', p .. 'agent:' .. string.sub(expect, 2) .. ':convs', c)
    end
    return {'stale', agent, cur[3] or '', cur[4] or ''}
  end
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
    redis.call('PEXPIRE', held, kttl)
    redis.call('HSET', a, 'idle', now)
    redis.call('PEXPIRE', a, kttl)
    redis.call('ZREM', queue, c)
    if buyer ~= '' then
      local b = p .. 'buyer:' .. buyer
      redis.call('HSET', b, 'agent', target, 'at', now)
      redis.call('PEXPIRE', b, sttl)
    end
  else
    redis.call('ZADD', queue, score, c)
    redis.call('PEXPIRE', queue, kttl)
  end
  if agent ~= '' and agent ~= target then
    redis.call('SREM', p .. 'agent:' .. agent .. ':convs', c)
  end
  if buyer ~= '' then
    redis.call('HSET', conv, 'agent', target, 'reason', reason, 'acause', cause, 'at', now,
               'buyer', buyer)
  else
    redis.call('HSET', conv, 'agent', target, 'reason', reason, 'acause', cause, 'at', now)
  end
  redis.call('PEXPIRE', conv, kttl)
  local rec = p .. 'cause:' .. cause
  redis.call('SADD', rec, c)
  redis.call('EXPIRE', rec, cttl)
  return {'ok', target, reason, now}
end

local function release(c, cause)
  local conv = p .. 'conv:' .. c
  local agent = redis.call('HGET', conv, 'agent') or ''
  if agent ~= '' then redis.call('SREM', p .. 'agent:' .. agent .. ':convs', c) end
  redis.call('ZREM', queue, c)
  if redis.call('EXISTS', conv) == 1 then
    redis.call('HSET', conv, 'agent', '', 'reason', '', 'acause', cause)
    redis.call('PEXPIRE', conv, kttl)
  end
  return {agent}
end

local function presence(id, status, max)
  local a = p .. 'agent:' .. id
  local prev = redis.call('HGET', a, 'status')
  redis.call('HSET', a, 'status', status, 'max', max)
  if status == 'online' and prev ~= 'online' then redis.call('HSET', a, 'idle', now) end
  redis.call('PEXPIRE', a, kttl)
  redis.call('SADD', p .. 'agents', id)
  redis.call('PEXPIRE', p .. 'agents', kttl)
  local held = a .. ':convs'
  local out = {}
  if status ~= 'online' then
    for _, c in ipairs(redis.call('SMEMBERS', held)) do
      local f = redis.call('HMGET', p .. 'conv:' .. c, 'priority', 'opened', 'buyer')
      for _, v in ipairs({c, f[1] or 'normal', f[2] or '0', f[3] or ''}) do out[#out + 1] = v end
    end
  elseif redis.call('EXISTS', held) == 1 then
    redis.call('PEXPIRE', held, kttl)
  end
  return out
end

local answers, i, again = {}, 6, false
while i <= #ARGV do
  local code = ARGV[i]
  if code == 'A' then
    local answer = assign(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5],
                          ARGV[i + 6], ARGV[i + 7])
    answers[#answers + 1] = answer
    again = again or answer[1] == 'full'
    i = i + 8
  elseif code == 'R' then
    answers[#answers + 1] = release(ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  else
    local held = presence(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    answers[#answers + 1] = held
    again = again or #held > 0
    i = i + 4
  end
end
if not again then return {answers} end
local agents = board(p)
return {answers, agents}
"""

# ARGV: prefix, key ttl ms, dedup ttl s, then counted sections:
#   conversations: conv, fence, buyer, priority, opened, answered, trace, complained,
#                  clock, queue score ('' unless queued: a more urgent message moves it up)
#   clocks:        kind, id, fence, n, then n (sla, clock) pairs
#   sticky agents: buyer, agent, at ms, ttl ms
#   causes done:   cause
#   dedup marks:   event id
#   acknowledged:  kind, id, sla, cause (field `ack:<sla>` of the subject's clocks, which
#                  their owner's writes never touch)
# A fence is "<shard>|<generation>" of the partition the change was decided from ('' for
# none). If a conversation or clock was last written by a newer generation of the same
# shard, nothing is written and the call fails with FENCED: its writer lost the
# partition (it was paused past its session, say) and must not undo the new owner's work.
WRITE = """
local p, kttl, dttl = ARGV[1], ARGV[2], ARGV[3]
local function split(fence)
  local at = string.find(fence, '|[^|]*$')
  return string.sub(fence, 1, at - 1), tonumber(string.sub(fence, at + 1))
end
local function stale(key, fence)
  if fence == '' then return false end
  local stored = redis.call('HGET', key, 'fence')
  if not stored or stored == fence then return false end
  local shard, gen = split(fence)
  local stored_shard, stored_gen = split(stored)
  return stored_shard == shard and stored_gen > gen
end
local n, i = tonumber(ARGV[4]), 5
for _ = 1, n do
  if stale(p .. 'conv:' .. ARGV[i], ARGV[i + 1]) then
    return redis.error_reply('FENCED conversation ' .. ARGV[i] .. ' has a newer owner')
  end
  i = i + 10
end
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  if stale(p .. 'clock:' .. ARGV[i] .. ':' .. ARGV[i + 1], ARGV[i + 2]) then
    return redis.error_reply('FENCED ' .. ARGV[i] .. ' ' .. ARGV[i + 1] .. ' has a newer owner')
  end
  i = i + 4 + 2 * tonumber(ARGV[i + 3])
end
i = 5
for _ = 1, n do
  local key = p .. 'conv:' .. ARGV[i]
  if ARGV[i + 1] ~= '' then
    redis.call('HSET', key, 'buyer', ARGV[i + 2], 'priority', ARGV[i + 3], 'opened',
               ARGV[i + 4], 'answered', ARGV[i + 5], 'trace', ARGV[i + 6], 'complained',
               ARGV[i + 7], 'clock', ARGV[i + 8], 'fence', ARGV[i + 1])
  else
    redis.call('HSET', key, 'buyer', ARGV[i + 2], 'priority', ARGV[i + 3], 'opened',
               ARGV[i + 4], 'answered', ARGV[i + 5], 'trace', ARGV[i + 6], 'complained',
               ARGV[i + 7], 'clock', ARGV[i + 8])
  end
  redis.call('PEXPIRE', key, kttl)
  if ARGV[i + 9] ~= '' then
    redis.call('ZADD', p .. 'queue', 'XX', 'LT', ARGV[i + 9], ARGV[i])
  end
  i = i + 10
end
i = i + 1
for _ = 1, m do
  local key = p .. 'clock:' .. ARGV[i] .. ':' .. ARGV[i + 1]
  local pairs = tonumber(ARGV[i + 3])
  redis.call('HSET', key, unpack(ARGV, i + 4, i + 3 + 2 * pairs))
  if ARGV[i + 2] ~= '' then redis.call('HSET', key, 'fence', ARGV[i + 2]) end
  redis.call('PEXPIRE', key, kttl)
  i = i + 4 + 2 * pairs
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local key = p .. 'buyer:' .. ARGV[i]
  redis.call('HSET', key, 'agent', ARGV[i + 1], 'at', ARGV[i + 2])
  redis.call('PEXPIRE', key, ARGV[i + 3])
  i = i + 4
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('DEL', p .. 'cause:' .. ARGV[i])
  i = i + 1
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('SET', p .. 'seen:' .. ARGV[i], 1, 'EX', dttl)
  i = i + 1
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local key = p .. 'clock:' .. ARGV[i] .. ':' .. ARGV[i + 1]
  redis.call('HSET', key, 'ack:' .. ARGV[i + 2], ARGV[i + 3])
  redis.call('PEXPIRE', key, kttl)
  i = i + 4
end
return 1
"""
