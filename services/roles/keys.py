"""Redis key layout of a role service. R is the role (`presale`/`aftersale`), S the shop,
always in a hash tag so one shop's keys share a Redis Cluster slot (the Lua scripts touch
several keys of one shop; they get the shop's key prefix and build the rest from it).

    kefu:{S}:R:seen:<event_id>        STRING dedup mark                      TTL dedup_window
    kefu:{S}:R:conv:<conv_id>         HASH   one conversation                TTL context_ttl (*)
        assignment script only: agent, reason, acause (`ConvState.assignment_cause`:
                       the cause of the last assignment decision), at (ms)
        partition owner: buyer, priority, opened (ms), answered, trace, clock (the
                       response clock, `ClockState` as JSON), complained (the clock cause
                       whose unanswered stretch raised a complaint)
    kefu:{S}:R:agents                 SET    agent ids of the shop in this role  TTL context_ttl (*)
                                             (members whose hash expired are pruned on load)
    kefu:{S}:R:agent:<agent_id>       HASH   status, max, idle (ms)          TTL context_ttl (*)
    kefu:{S}:R:agent:<agent_id>:convs SET    conversations held; load = SCARD  TTL context_ttl (*)
    kefu:{S}:R:queue                  ZSET   queued conv -> queue_score(priority, opened)
                                             TTL context_ttl (*); assign/close remove entries
    kefu:{S}:R:buyer:<buyer_id>       HASH   agent, at (ms): the sticky agent  TTL sticky_window
    kefu:{S}:R:cause:<cause>          SET    conversations an assignment decision of <cause>
                                             touched: replayed after a crash  TTL 1 day, deleted
                                             once the batch's outputs were acked
    kefu:{S}:R:clock:<kind>:<id>      HASH   order/case clocks: sla -> ClockState JSON
                                             (partition owner), fence; ack:<sla> -> the
                                             cause a supervisor acknowledged (any
                                             replica)                        TTL context_ttl (*)
    kefu:{timers:R:<topic>:<p>}:...   the clocks' timers, one shard per input partition
                                             (services/core/timers/partitioned.py)

(*) refreshed on every write, so idle data disappears after `context_ttl` (30 days).
"""

from __future__ import annotations

CAUSE_TTL_SECONDS = 24 * 3600


class RoleKeys:
    def __init__(self, role: str) -> None:
        self.role = role

    def prefix(self, shop: str) -> str:
        """`kefu:{S}:R:`, the base every Lua script builds its keys on."""
        return f"kefu:{{{shop}}}:{self.role}:"

    def seen(self, shop: str, event_id: str) -> str:
        return f"{self.prefix(shop)}seen:{event_id}"

    def conv(self, shop: str, conv_id: str) -> str:
        return f"{self.prefix(shop)}conv:{conv_id}"

    def agents(self, shop: str) -> str:
        return f"{self.prefix(shop)}agents"

    def agent(self, shop: str, agent_id: str) -> str:
        return f"{self.prefix(shop)}agent:{agent_id}"

    def held(self, shop: str, agent_id: str) -> str:
        return f"{self.prefix(shop)}agent:{agent_id}:convs"

    def queue(self, shop: str) -> str:
        return f"{self.prefix(shop)}queue"

    def buyer(self, shop: str, buyer_id: str) -> str:
        return f"{self.prefix(shop)}buyer:{buyer_id}"

    def cause(self, shop: str, cause: str) -> str:
        return f"{self.prefix(shop)}cause:{cause}"

    def clock(self, shop: str, kind: str, subject_id: str) -> str:
        return f"{self.prefix(shop)}clock:{kind}:{subject_id}"
