"""Reads one shop's boards, read-only: the role services' keys (layout and decoding in
`services/roles/keys.py`, `clock_state.py`, `assignment.py`) and the console's feeds,
in one pipelined round trip per refresh."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from redis.asyncio import Redis

from contracts import Role
from services.console import keys
from services.core.redis import reply_text
from services.core.redis_batch import RedisBatch
from services.roles.assignment import queued_at
from services.roles.clock_state import ClockState
from services.roles.keys import RoleKeys

QUEUE_READ = 500
"""Queue entries read per refresh (the oldest wait is found among them)."""

# KEYS[1]: the role's agents set; ARGV[1]: its prefix `kefu:{S}:R:`, ARGV[2]: queue entries
# to read. Read-only. Returns {agents: {id, status, max, load}..., queue length,
# queue: [conv, score]..., conversations held or queued: {conv, agent, clock}...}
BOARD = """#!lua flags=no-writes
local p, n = ARGV[1], tonumber(ARGV[2])
local agents, convs, states = {}, {}, {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local info = redis.call('HMGET', p .. 'agent:' .. id, 'status', 'max')
  if info[1] then
    local held = redis.call('SMEMBERS', p .. 'agent:' .. id .. ':convs')
    agents[#agents + 1] = {id, info[1], info[2] or '0', #held}
    for _, c in ipairs(held) do convs[#convs + 1] = c end
  end
end
local waiting = redis.call('ZCARD', p .. 'queue')
local queue = redis.call('ZRANGE', p .. 'queue', 0, n - 1, 'WITHSCORES')
for j = 1, #queue, 2 do convs[#convs + 1] = queue[j] end
for _, c in ipairs(convs) do
  local f = redis.call('HMGET', p .. 'conv:' .. c, 'agent', 'clock')
  states[#states + 1] = {c, f[1] or '', f[2] or ''}
end
return {agents, waiting, queue, states}
"""


@dataclass(slots=True)
class AgentRow:
    agent_id: str
    status: str
    capacity: int
    load: int
    roles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RoleBoard:
    role: str
    agents: list[AgentRow]
    waiting: int
    queued_at_ms: list[int]  # of the entries read
    clocks: list[tuple[str, str, ClockState]]  # (conversation, agent, its response clock)


@dataclass(slots=True)
class ShopRead:
    boards: dict[str, RoleBoard]
    escalations: list[dict]  # newest first
    acks: dict[str, dict]
    letters: list[dict]  # newest first


class BoardReader:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._board = redis.register_script(BOARD)
        self.roles = {role.value: RoleKeys(role.value) for role in Role}

    async def read(self, shop: str, since_ms: int) -> ShopRead:
        batch = RedisBatch(self.redis)
        for role_keys in self.roles.values():
            batch.script(self._board, [role_keys.agents(shop)],
                         [role_keys.prefix(shop), QUEUE_READ])
        batch.command("ZREVRANGE", keys.escalations(shop), 0, keys.FEED_SIZE - 1)
        batch.command("HGETALL", keys.escalation(shop))
        batch.command("HGETALL", keys.acks(shop))
        batch.command("ZREVRANGEBYSCORE", keys.letters(shop), "+inf", since_ms)
        *boards, order, bodies, acks, letters = await batch.execute()
        return ShopRead(
            {role: _role_board(role, reply) for role, reply in zip(self.roles, boards,
                                                                    strict=True)},
            [orjson.loads(bodies[eid]) for eid in order if eid in bodies],
            {reply_text(k): orjson.loads(v) for k, v in acks.items()},
            [orjson.loads(raw) for raw in letters])


def _role_board(role: str, reply: list) -> RoleBoard:
    agents, waiting, queue, states = reply
    clocks = []
    for conv, agent, clock in states:
        if clock:
            state = ClockState.decode(clock)
            if state.running:
                clocks.append((reply_text(conv), reply_text(agent), state))
    return RoleBoard(
        role,
        [AgentRow(reply_text(a), reply_text(status), int(cap), int(load), [role])
         for a, status, cap, load in agents],
        int(waiting),
        [queued_at(int(float(queue[j + 1]))) for j in range(0, len(queue), 2)],
        clocks)
