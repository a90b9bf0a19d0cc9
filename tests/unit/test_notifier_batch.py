"""The notifier's batch decision on fakes (`plan` over a `NotifierState` filled by
hand): who a notice goes to, repeats and the logistics cap refused, buyer notices held
through quiet hours while alerts go now, and the keys a batch loads."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from contracts import Assignment, Escalation, example, parse_inbound
from services.core.policy import parse_policy
from services.notifier import keys
from services.notifier.batch import drafts_for, keys_to_load, plan
from services.notifier.state import NotifierState

POLICY = parse_policy({"shops": {"s1": {"notify": {
    "quiet_hours": ["22:00", "08:00"],
    "logistics_updates": {"in_transit": False, "max_per_order": 1, "window": "24h"}}}}})
DAY = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
NIGHT = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


def event(event_type: str, event_id: str, **payload):
    return parse_inbound(orjson.dumps(example(event_type, event_id=event_id, shop_id="s1",
                                              payload={"order_id": "o-1", **payload})))


def scanned(event_id: str):
    return event("logistics.update", event_id, status="out_for_delivery")


def alert():
    return Escalation.model_validate({
        "escalation_id": "esc-1", "shop_id": "s1", "role": "aftersale",
        "subject": {"kind": "order", "id": "o-1"}, "sla": "ship_by", "level": 2,
        "state": "breached", "deadline": "2026-11-22T08:00:00+08:00",
        "fired_at": "2026-11-22T09:00:00+08:00"})


def planned(inputs, state=None, now=DAY):
    items = [(item, drafts_for(item, POLICY)) for item in inputs]
    return plan(items, state or NotifierState(ttl=60, dedup_ttl=60), POLICY, now)


def sent(result) -> list[dict]:
    return [orjson.loads(value) for _, _, value in result.entries]


def test_a_notice_goes_to_the_buyer_an_earlier_event_of_the_batch_named() -> None:
    result = planned([event("order.paid", "e-paid", buyer_id="b-9"),
                      event("order.shipped", "e-ship")])
    [notice] = sent(result)
    assert (notice["kind"], notice["buyer_id"]) == ("shipped", "b-9")
    assert [due for _, due, _ in result.entries] == [DAY]


def test_the_buyers_language_named_once_is_kept_by_later_events() -> None:
    result = planned([event("order.created", "e-new", buyer_id="b-9", locale="en-US"),
                      event("order.paid", "e-paid", buyer_id="b-9"),  # names no language
                      event("order.shipped", "e-ship")])
    [notice] = sent(result)
    assert (notice["kind"], notice["buyer_id"], notice["locale"]) == ("shipped", "b-9", "en")


def conversation_breach():
    return Escalation.model_validate({
        "escalation_id": "esc-2", "shop_id": "s1", "role": "presale",
        "subject": {"kind": "conversation", "id": "c-1"}, "sla": "first_response",
        "level": 2, "state": "breached", "deadline": "2026-11-22T08:00:00+08:00",
        "fired_at": "2026-11-22T09:00:00+08:00"})


def assigned(agent: str | None):
    return Assignment.model_validate({
        "conversation_id": "c-1", "shop_id": "s1", "role": "presale", "agent_id": agent,
        "reason": "least_loaded" if agent else "queued_no_capacity",
        "at": "2026-11-22T08:30:00+08:00"})


@pytest.mark.parametrize(("before", "holder"), [
    ([assigned("agent-lin")], "当前负责人：agent-lin。"),
    ([assigned(None)], "当前负责人：暂无（排队中）。"),
    ([assigned("agent-lin"), assigned(None)], "当前负责人：暂无（排队中）。"),
    ([], "当前负责人：未知（售前组）。"),
])
def test_an_alert_names_who_holds_the_conversation_now(before, holder) -> None:
    [alert_text] = [n["text"] for n in sent(planned([*before, conversation_breach()]))]
    assert alert_text.endswith(holder)


def test_a_notice_queued_before_or_earlier_in_the_batch_is_a_duplicate() -> None:
    state = NotifierState(ttl=60, dedup_ttl=60)
    [before] = drafts_for(event("order.shipped", "e-before"), POLICY)
    state.loaded(known={keys.notification_key("s1", before.notification_id): True})
    result = planned([event("order.shipped", "e-before"), event("order.delayed", "e-late"),
                      event("order.delayed", "e-late")], state)
    assert [notice["kind"] for notice in sent(result)] == ["delay_notice"]
    assert [(d.kind, reason) for d, reason in result.skipped] == [
        ("shipped", "duplicate"), ("delay_notice", "duplicate")]


def test_logistics_updates_over_the_shops_cap_are_skipped() -> None:
    result = planned([scanned("e-scan-1"), scanned("e-scan-2")])
    assert len(result.entries) == 1
    assert [reason for _, reason in result.skipped] == ["logistics_cap"]


def test_buyer_notices_wait_for_the_end_of_quiet_hours_and_alerts_do_not() -> None:
    result = planned([event("order.shipped", "e-ship"), alert()], now=NIGHT)
    dues = {orjson.loads(value)["audience"]: due for _, due, value in result.entries}
    morning = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert dues["buyer"] == morning and dues["supervisor"] == NIGHT
    assert [(d.kind, until) for d, until in result.deferred] == [("shipped", morning)]


def test_a_batch_loads_its_ids_orders_and_cap_counts() -> None:
    paid, scan = event("order.paid", "e-paid", buyer_id="b-9"), scanned("e-scan-1")
    loaded = keys_to_load([(paid, []), (scan, drafts_for(scan, POLICY))])
    [draft] = drafts_for(scan, POLICY)
    assert loaded == {"orders": {keys.order_key("s1", "o-1")}, "convs": set(),
                      "logistics": {keys.logistics_key("s1", "o-1")},
                      "ids": {keys.notification_key("s1", draft.notification_id)}}
