"""The router's batch decision on fakes (`route_batch` over a `RouterState` filled by
hand, a classifier that answers by order stage): duplicates dropped, order stages
followed through the batch, a stored routing block reused, watermarks per partition."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
from aiokafka import ConsumerRecord, TopicPartition

from contracts import INBOUND, example, parse_inbound_document, topics
from services.router.batch import claim_of, route_batch
from services.router.state import DONE, RouterState

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SHOP = "shop-1"


class ByStage:
    """A classifier: after-sale once the order shipped, else pre-sale."""

    def classify(self, text, *, order_stage, sticky_role):
        role = "aftersale" if order_stage in ("shipped", "delivered") else "presale"
        return SimpleNamespace(intent="logistics", role=role, priority="normal",
                               confidence=1.0, reason="fake")


def records(*events, partition: int = 0):
    out = []
    for offset, event in enumerate(events):
        raw = orjson.dumps(event)
        record = ConsumerRecord(INBOUND, partition, offset, 0, 0, b"k", raw, None, 1, len(raw),
                                [])
        parsed, data = parse_inbound_document(raw)
        out.append((record, (parsed, raw, data)))
    return out


def held(batch, state: RouterState | None = None) -> RouterState:
    """A state as loaded for `batch`: every record took its event's mark."""
    state = state or RouterState(ttl=60, dedup_ttl=60)
    for record, (event, _, _) in batch:
        state.hold(state.seen_key(event.shop_id, event.event_id), claim_of(record))
    return state


def paid(event_id: str = "e-paid"):
    return example("order.paid", event_id=event_id, shop_id=SHOP,
                   payload={"order_id": "o-1", "buyer_id": "b1"})


def shipped():
    return example("order.shipped", event_id="e-shipped", shop_id=SHOP,
                   payload={"order_id": "o-1"})


def asks(event_id: str = "e-ask"):
    return example("buyer.message", event_id=event_id, shop_id=SHOP,
                   payload={"conversation_id": "c-1", "buyer_id": "b1", "text": "到哪了",
                            "order_id": "o-1"})


def route(batch, state):
    return route_batch(batch, state, lambda shop: ByStage(), NOW, grace_ms=0)


def topics_of(routed) -> list[str]:
    return [out.topic for out in routed.outputs]


def test_a_question_after_the_order_shipped_in_the_same_batch_goes_to_aftersale() -> None:
    batch = records(paid(), shipped(), asks())
    routed = route(batch, held(batch))
    assert topics_of(routed) == [topics.ORDERS, topics.ORDERS, topics.ROLE_AFTERSALE]
    routing = orjson.loads(routed.outputs[-1].value)["routing"]
    assert routing["role"] == "aftersale" and routing["routed_at"] == NOW.isoformat()


def order_event(kind: str, event_id: str, order_id: str, **payload):
    return example(kind, event_id=event_id, shop_id=SHOP,
                   payload={"order_id": order_id, **payload})


def asks_without_order(event_id: str = "e-ask-2"):
    body = asks(event_id)
    del body["payload"]["order_id"]
    return body


def test_a_question_naming_no_order_counts_the_buyers_latest_order() -> None:
    batch = records(paid(), shipped(), asks_without_order())
    assert topics_of(route(batch, held(batch)))[-1] == topics.ROLE_AFTERSALE
    newer = records(paid(), shipped(), order_event("order.paid", "e-paid-2", "o-2",
                                                   buyer_id="b1"), asks_without_order())
    assert topics_of(route(newer, held(newer)))[-1] == topics.ROLE_PRESALE, "o-2 is newer"


def test_a_review_of_an_older_order_does_not_make_it_the_latest() -> None:
    batch = records(paid(), order_event("order.paid", "e-paid-2", "o-2", buyer_id="b1"),
                    shipped(), order_event("review.posted", "e-review", "o-1", buyer_id="b1"),
                    asks_without_order())
    assert topics_of(route(batch, held(batch)))[-1] == topics.ROLE_PRESALE


def test_an_agents_message_follows_the_conversations_role() -> None:
    reply = example("agent.message", event_id="e-reply", shop_id=SHOP,
                    payload={"conversation_id": "c-1"})
    stranger = example("agent.message", event_id="e-other", shop_id=SHOP,
                       payload={"conversation_id": "c-unknown"})
    batch = records(paid(), shipped(), asks(), reply, stranger)
    assert topics_of(route(batch, held(batch)))[-2:] == [topics.ROLE_AFTERSALE,
                                                         topics.ROLE_PRESALE]


def test_a_conversation_that_changes_role_is_closed_for_the_role_it_leaves() -> None:
    """Asked before shipment (pre-sale), asked again after (after-sale): pre-sale gets a
    close at the second message's time, so its clock stops and its agent is free."""
    batch = records(paid(), asks("e-ask-1"), shipped(), asks("e-ask-2"), asks("e-ask-3"))
    routed = route(batch, held(batch))
    assert topics_of(routed) == [topics.ORDERS, topics.ROLE_PRESALE, topics.ORDERS,
                                 topics.ROLE_PRESALE, topics.ROLE_AFTERSALE,
                                 topics.ROLE_AFTERSALE]
    close = orjson.loads(routed.outputs[3].value)
    assert (close["event_type"], close["payload"]["closed_by"]) == (
        "conversation.closed", "handoff:aftersale")
    assert close["occurred_at"] == asks("e-ask-2")["occurred_at"]


def test_a_second_copy_in_the_batch_and_a_mark_held_elsewhere_are_duplicates() -> None:
    batch = records(paid(), paid(), asks())
    state = held(batch[:1])  # the buyer message's mark: another record's
    routed = route(batch, state)
    assert topics_of(routed) == [topics.ORDERS]
    assert state.writes()[state.seen_key(SHOP, "e-paid")] == f"{claim_of(batch[0][0])}{DONE}"


def test_a_stored_routing_block_is_reused_whatever_the_context_says_now() -> None:
    batch = records(shipped(), asks())
    state = RouterState(ttl=60, dedup_ttl=60)
    state.know(state.order_key(SHOP, "o-1"), "paid||b1")
    state.hold(state.seen_key(SHOP, "e-shipped"), claim_of(batch[0][0]))
    earlier = {"role": "presale", "intent": "logistics"}
    state.hold(state.seen_key(SHOP, "e-ask"), claim_of(batch[1][0]), orjson.dumps(earlier))
    routed = route(batch, state)
    assert topics_of(routed) == [topics.ORDERS, topics.ROLE_PRESALE]
    assert orjson.loads(routed.outputs[-1].value)["routing"] == earlier


def test_each_partition_is_marked_with_its_latest_event_time_never_later_than_now() -> None:
    early = paid("e-early") | {"occurred_at": "2026-11-22T07:00:00+00:00"}
    late = asks() | {"occurred_at": "2026-11-22T09:00:00+00:00"}
    batch = records(early, partition=0) + records(late, partition=1)
    routed = route_batch(batch, RouterState(ttl=60, dedup_ttl=60), lambda shop: ByStage(),
                         NOW, grace_ms=1000)
    assert routed.outputs == []  # no marks held: every record is a copy
    now_ms = round(NOW.timestamp() * 1000)
    assert routed.watermarks == {TopicPartition(INBOUND, 0): now_ms - 3_600_000 - 1000,
                                 TopicPartition(INBOUND, 1): now_ms - 1000}
