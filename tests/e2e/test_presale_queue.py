"""When capacity moves, on the real broker and Redis: queued conversations are served by
priority then age the moment capacity frees, an agent going away or offline hands their
conversations back, and a first-response breach reassigns to a free agent."""

from __future__ import annotations

import pytest

from contracts import topics
from tests.conftest import unique
from tests.e2e import role_replica as r

pytestmark = pytest.mark.e2e


async def test_queue_serves_priority_then_age_when_capacity_frees(shop, kafka) -> None:
    await shop.online("solo", 1)
    busy, old, urgent, newer = (unique("c") for _ in range(4))
    t0 = r.now()
    await shop.send(r.buyer(shop.id, busy, buyer_id="p0"))
    assert await shop.assignments(1) == [(busy, "solo", "least_loaded")]
    await shop.send(r.buyer(shop.id, old, buyer_id="p1", at=t0),
                    r.buyer(shop.id, newer, buyer_id="p3", at=r.later(0.1)),
                    r.buyer(shop.id, urgent, buyer_id="p2", priority="urgent", at=r.later(0.2)))
    queued = await shop.assignments(3)
    assert sorted(queued) == sorted((c, None, "queued_no_capacity") for c in (old, newer, urgent))
    await shop.send(r.closed(shop.id, busy))
    assert await shop.assignments(1) == [(urgent, "solo", "least_loaded")]
    await shop.online("helper", 1)
    assert await shop.assignments(1) == [(old, "helper", "least_loaded")]
    await shop.online("helper", 2)  # more capacity frees one more slot
    assert await shop.assignments(1) == [(newer, "helper", "least_loaded")]


async def test_agent_going_away_or_offline_hands_conversations_back(shop, kafka) -> None:
    await shop.online("leaver", 5)
    c1, c2, c3 = (unique("c") for _ in range(3))
    await shop.send(*(r.buyer(shop.id, c, buyer_id=c) for c in (c1, c2, c3)))
    assert {a for _, a, _ in await shop.assignments(3)} == {"leaver"}
    await shop.online("stayer", 2)
    await shop.online("leaver", 5, state="away")
    moved = await shop.assignments(3)
    assert sorted(a or "-" for _, a, _ in moved) == ["-", "stayer", "stayer"]
    assert {c for c, _, _ in moved} == {c1, c2, c3}
    assert sorted(why for _, _, why in moved).count("queued_no_capacity") == 1
    await shop.online("stayer", 2, state="offline")
    back = await shop.assignments(2)
    assert sorted(back) == sorted((c, None, "queued_no_capacity") for c, a, _ in moved if a)
    await shop.online("leaver", 5)
    assert {a for _, a, _ in await shop.assignments(3)} == {"leaver"}


async def test_first_response_breach_reassigns_to_a_free_agent(shop, kafka) -> None:
    await shop.online("slow", 1)
    conv, answered = unique("c"), unique("c")
    await shop.send(r.buyer(shop.id, conv, buyer_id="w1"))
    assert await shop.assignments(1) == [(conv, "slow", "least_loaded")]
    await shop.online("fast", 3)
    await shop.send(r.buyer(shop.id, answered, buyer_id="w2"))
    assert await shop.assignments(1) == [(answered, "fast", "least_loaded")]
    await shop.send(r.agent_says(shop.id, answered, "fast"))
    moves = await shop.assignments(1, settle=3.0)  # no move for the answered conversation
    assert moves == [(conv, "fast", "reassigned_after_breach")]
    escalations = await kafka.collect(topics.ESCALATIONS, r.on_shop(shop.id), count=2)
    assert {(b["subject"]["id"], b["level"]) for b, _ in escalations} >= {(conv, 1), (conv, 2)}
