"""The Lua of the gateway's claims (services.gateway.claims), run by EVALSHA. Each call
gets the keys of one shop (one hash tag), of one or several requests."""

from __future__ import annotations

import hashlib

# KEYS: (gateway mark, router mark) per event; ARGV: the claims' lease in ms, then
# the pending value of each event (its request's token).
CLAIM = """
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    out[#out + 1] = 'routed'
  else
    local mark = redis.call('GET', KEYS[i])
    if not mark then
      redis.call('SET', KEYS[i], ARGV[(i + 3) / 2], 'PX', ARGV[1])
      out[#out + 1] = 'claimed'
    elseif mark == 'accepted' then
      out[#out + 1] = 'accepted'
    else
      out[#out + 1] = 'busy'
    end
  end
end
return out
"""

# KEYS: gateway marks; ARGV: the dedup window in seconds, then each key's pending value.
# A mark that expired meanwhile is set too: the event is written, whoever asks next is
# told so.
CONFIRM = """
for i = 1, #KEYS do
  local mark = redis.call('GET', KEYS[i])
  if not mark or mark == ARGV[i + 1] then
    redis.call('SET', KEYS[i], 'accepted', 'EX', ARGV[1])
  end
end
return #KEYS
"""

# KEYS: gateway marks; ARGV: each key's pending value. Compare-and-delete.
RELEASE = """
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    n = n + redis.call('DEL', KEYS[i])
  end
end
return n
"""

# KEYS: gateway marks; ARGV: the lease in ms, then each key's pending value. A claim
# still held by its request is given a fresh lease; one settled or taken over is left.
RENEW = """
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    n = n + redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
end
return n
"""

SHAS = {script: hashlib.sha1(script.encode()).hexdigest()
        for script in (CLAIM, CONFIRM, RELEASE, RENEW)}
