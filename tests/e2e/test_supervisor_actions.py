"""The console's actions end to end, on the real broker and Redis, through the router:
an acknowledged breach never reaches level 3 and its supervisors get no second alert; a
reassignment moves the conversation and its capacity."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from contracts import topics
from services.roles.keys import RoleKeys
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e

POLICY = r.POLICY.replace("presale: {first_response: 2s, next_response: 2s}",
                          "presale: {first_response: 3s, next_response: 3s}")


@pytest.fixture(scope="module")
async def services(stack, kafka, tmp_path_factory):
    policy = r.write_policy(tmp_path_factory.mktemp("p"), POLICY)
    async with running("router", stack.settings(policy_file=policy)), \
            running("presale", stack.settings(policy_file=policy)), \
            running("notifier", stack.settings(policy_file=policy)):
        yield


@pytest.fixture(scope="module")
async def redis(stack):
    client = Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


def inbound(kind: str, shop: str, **payload) -> dict:
    return r.envelope(kind, shop, payload)


async def escalations(kafka, shop: str, count: int, match=lambda b: True,
                      settle: float = 0.0) -> list[dict]:
    found = await kafka.collect(topics.ESCALATIONS,
                                lambda b, _r: b["shop_id"] == shop and match(b), count=count,
                                timeout=40, settle=settle)
    return [b for b, _ in found]


async def test_an_acknowledged_breach_never_reaches_level_3_nor_alerts_again(services, kafka):
    shop, acked, control = unique("shop"), unique("c"), unique("c")
    for conv in (acked, control):
        await kafka.send(topics.INBOUND, inbound("buyer.message", shop, conversation_id=conv,
                                                 buyer_id=unique("b"), message_id=unique("m"),
                                                 text="这件有现货吗"), conv)
    [breach] = await escalations(kafka, shop, 1, lambda b: b["subject"]["id"] == acked
                                 and b["level"] == 2)
    await kafka.send(topics.INBOUND, inbound(
        "escalation.acknowledged", shop, escalation_id=breach["escalation_id"],
        subject=breach["subject"], role="presale", by="sup-wu"), acked)
    level3 = await escalations(kafka, shop, 1, lambda b: b["level"] == 3)
    assert [b["subject"]["id"] for b in level3] == [control], "the control reached level 3"
    alerts = await kafka.collect(
        topics.NOTIFICATIONS, lambda b, _r: b["shop_id"] == shop and b["kind"] ==
        "escalation_alert", count=3, timeout=20, settle=0.5)
    per_conv = sorted(b["conversation_id"] for b, _ in alerts)
    assert per_conv == sorted([acked, control, control]), "one alert for the acknowledged one"
    # the control's level 3 is out, so the acknowledged one's would be too: all is read
    everything = await escalations(kafka, shop, 2, lambda b: b["subject"]["id"] == acked,
                                   settle=0.5)
    assert [(b["state"], b["level"]) for b in everything] == [("warning", 1), ("breached", 2)]


async def test_a_reassignment_moves_the_conversation_and_its_capacity(services, kafka, redis):
    shop = r.Shop(kafka, redis)
    shop.send = _via_router(kafka)  # the agents' presence goes through the router too
    await shop.online("a1", max_concurrent=1)
    await shop.online("a2", max_concurrent=2)
    conv = unique("c")
    await kafka.send(topics.INBOUND, inbound("buyer.message", shop.id, conversation_id=conv,
                                             buyer_id="b1", message_id=unique("m"),
                                             text="在吗"), conv)
    [(_, first, _)] = await shop.assignments(1)
    other = "a1" if first == "a2" else "a2"
    await kafka.send(topics.INBOUND, inbound("conversation.reassigned", shop.id,
                                             conversation_id=conv, role="presale",
                                             to_agent_id=other, by="sup-wu"), conv)
    assert await shop.assignments(1) == [(conv, other, "reassigned_by_supervisor")]
    keys = RoleKeys("presale")

    async def moved() -> bool:
        held = {a: await redis.smembers(keys.held(shop.id, a)) for a in ("a1", "a2")}
        return held[other] == {conv} and not held[first]

    assert await wait_until(moved, timeout=10), "the capacity moved with the conversation"


def _via_router(kafka):
    async def send(*events: dict) -> None:
        for event in events:
            await kafka.send(topics.INBOUND, event, r.key_of(event))
    return send
