"""The Lua scripts. Each touches the keys of ONE shard (one hash tag, so one Cluster
slot) and runs atomically. Key order everywhere: due, inflight, data, owner, fence.

Fencing: the last argument of every call is the caller's generation of the shard ('' for
none). A shard owned by an input partition (`PartitionTimers`) has a `fence` counter
that each new owner raises; a call with an older generation (a process that lost the
partition while paused, say) changes nothing and fails with `FENCED`.

`owner` values are "<original due ms>:<token>": the reaper needs the original due time
to put an expired lease back so that it fires at once; the ack needs the token.

Per-timer work is done with variadic commands (one ZADD/HSET/HMGET/... per batch, not
per timer): a `redis.call` costs about a microsecond or two on its own. Needs Redis 6.2+
(ZMSCORE)."""

# Helpers shared by the scripts. Lua's unpack() is limited to ~8000 values, hence slices.
_PRELUDE = """
local generation = table.remove(ARGV)
if generation ~= '' and tonumber(redis.call('GET', KEYS[5]) or '0') > tonumber(generation) then
  return redis.error_reply('FENCED a newer owner of this timer shard took over')
end
local CHUNK = 1000
local function call_many(cmd, key, opt, args)
  for i = 1, #args, CHUNK do
    local j = math.min(i + CHUNK - 1, #args)
    if opt then
      redis.call(cmd, key, opt, unpack(args, i, j))
    else
      redis.call(cmd, key, unpack(args, i, j))
    end
  end
end
local function fetch_many(cmd, key, args)
  local out = {}
  for i = 1, #args, CHUNK do
    local part = redis.call(cmd, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
    for k = 1, #part do out[#out + 1] = part[k] end
  end
  return out
end
-- the ids among ARGV[first], ARGV[first + 2], ... whose owner entry ends in ":" .. the
-- token that follows each id
local function owned(first)
  local ids, tokens = {}, {}
  for i = first, #ARGV, 2 do
    ids[#ids + 1] = ARGV[i]
    tokens[#tokens + 1] = ARGV[i + 1]
  end
  local owners = fetch_many('HMGET', KEYS[4], ids)
  local mine = {}
  for j = 1, #ids do
    local v, t = owners[j], tokens[j]
    if v and #v > #t and string.byte(v, #v - #t) == 58
        and string.find(v, t, #v - #t + 1, true) then
      mine[#mine + 1] = ids[j]
    end
  end
  return mine
end
"""


# ARGV[1]: packed timers, each "<len(id)>:<len(payload)>:<due_ms>:<id><payload>" (one
# argument: far cheaper for the client to encode than three per timer); ids are unique
# within a call. Empty payload: none stored. An in-flight timer keeps its lease: the
# re-schedule lands in `due` and survives the in-flight ack (which keeps the payload of
# a timer that is due again). Returns how many timers were scheduled.
SCHEDULE = (
    _PRELUDE
    + """
local blob = ARGV[1]
local zadd, hset, hdel = {}, {}, {}
local pos, n = 1, 0
while pos <= #blob do
  local a = string.find(blob, ':', pos, true)
  local b = string.find(blob, ':', a + 1, true)
  local c = string.find(blob, ':', b + 1, true)
  local id_end = c + tonumber(string.sub(blob, pos, a - 1))
  local payload_end = id_end + tonumber(string.sub(blob, a + 1, b - 1))
  local id = string.sub(blob, c + 1, id_end)
  zadd[#zadd + 1] = string.sub(blob, b + 1, c - 1)
  zadd[#zadd + 1] = id
  if payload_end > id_end then
    hset[#hset + 1] = id
    hset[#hset + 1] = string.sub(blob, id_end + 1, payload_end)
  else
    hdel[#hdel + 1] = id
  end
  pos = payload_end + 1
  n = n + 1
end
call_many('ZADD', KEYS[1], nil, zadd)
call_many('HSET', KEYS[3], nil, hset)
call_many('HDEL', KEYS[3], nil, hdel)
return n
"""
)

# ARGV: ids. Removes the timer whether due or in flight (a later ack is then a no-op).
# Returns how many of the ids existed.
CANCEL = (
    _PRELUDE
    + """
local due = fetch_many('ZMSCORE', KEYS[1], ARGV)
local inflight = fetch_many('ZMSCORE', KEYS[2], ARGV)
local n = 0
for j = 1, #ARGV do
  if due[j] or inflight[j] then n = n + 1 end
end
call_many('ZREM', KEYS[1], nil, ARGV)
call_many('ZREM', KEYS[2], nil, ARGV)
call_many('HDEL', KEYS[3], nil, ARGV)
call_many('HDEL', KEYS[4], nil, ARGV)
return n
"""
)

# ARGV: now_ms, limit, lease_until_ms, token
# Returns {next_due_ms or '', packed}: packed concatenates, per claimed timer,
# "<len(id)>:<len(payload)>:<due_ms>:<id><payload>" (one bulk string: far cheaper for
# the client to parse than three per timer).
# ZRANGEBYSCORE ... LIMIT 0 n returns the n lowest-ranked members, so ZREMRANGEBYRANK
# 0 n-1 removes exactly those.
CLAIM = (
    _PRELUDE
    + """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES',
                         'LIMIT', 0, tonumber(ARGV[2]))
local parts = {}
if #items > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #items / 2 - 1)
  local suffix = ':' .. ARGV[4]
  local ids, leases, owners = {}, {}, {}
  for i = 1, #items, 2 do
    local id = items[i]
    ids[#ids + 1] = id
    leases[#leases + 1] = ARGV[3]
    leases[#leases + 1] = id
    owners[#owners + 1] = id
    owners[#owners + 1] = items[i + 1] .. suffix
  end
  call_many('ZADD', KEYS[2], nil, leases)
  call_many('HSET', KEYS[4], nil, owners)
  local payloads = fetch_many('HMGET', KEYS[3], ids)
  for j = 1, #ids do
    local id, payload = ids[j], payloads[j] or ''
    parts[j] = #id .. ':' .. #payload .. ':' .. items[2 * j] .. ':' .. id .. payload
  end
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {head[2] or '', table.concat(parts)}
"""
)

# ARGV: id, token, id, token, ...   Returns how many were acked.
# Only the current claim's token acks; the payload goes unless the timer is due again.
ACK = (
    _PRELUDE
    + """
local mine = owned(1)
if #mine > 0 then
  call_many('HDEL', KEYS[4], nil, mine)
  call_many('ZREM', KEYS[2], nil, mine)
  local again = fetch_many('ZMSCORE', KEYS[1], mine)
  local done = {}
  for j = 1, #mine do
    if not again[j] then done[#done + 1] = mine[j] end
  end
  call_many('HDEL', KEYS[3], nil, done)
end
return #mine
"""
)

# ARGV: lease_until_ms, id, token, id, token, ...   Returns how many leases were kept.
EXTEND = (
    _PRELUDE
    + """
local mine = owned(2)
local leases = {}
for j = 1, #mine do
  leases[#leases + 1] = ARGV[1]
  leases[#leases + 1] = mine[j]
end
call_many('ZADD', KEYS[2], 'XX', leases)
return #mine
"""
)

# ARGV: now_ms, limit.  Expired leases go back to `due` at their ORIGINAL due time so
# they fire at once. NX: a timer re-scheduled while in flight keeps its new schedule
# (the latest schedule wins, as it does for the payload). Returns how many were released.
RELEASE = (
    _PRELUDE
    + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return 0 end
local owners = fetch_many('HMGET', KEYS[4], ids)
local back = {}
for j = 1, #ids do
  local v, due = owners[j], ARGV[1]
  local p = v and string.find(v, ':', 1, true)
  if p then due = string.sub(v, 1, p - 1) end
  back[#back + 1] = due
  back[#back + 1] = ids[j]
end
call_many('ZADD', KEYS[1], 'NX', back)
call_many('ZREM', KEYS[2], nil, ids)
call_many('HDEL', KEYS[4], nil, ids)
return #ids
"""
)

# A partition's new owner raises the shard's generation (KEYS[1], `fence`). ARGV[1] is
# the consumer group's generation in which it was given the partition ('' unknown), kept
# in KEYS[2] (`group`): a take from an older group generation than the one kept (a
# replica the group expelled, whose take Redis only took now) raises nothing and returns
# minus the kept one, unless ARGV[2] names exactly that kept value: the taker has since
# proven that the group's current generation is its own (the group was started afresh,
# its generations counted again from the start: 0 on the embedded broker).
TAKE = """
local group, stale = ARGV[1], ARGV[2]
if group ~= '' then
  local kept = redis.call('GET', KEYS[2])
  if kept and tonumber(kept) > tonumber(group) and kept ~= stale then
    return -tonumber(kept)
  end
  redis.call('SET', KEYS[2], group)
end
return redis.call('INCR', KEYS[1])
"""
