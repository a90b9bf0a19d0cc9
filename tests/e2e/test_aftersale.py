"""After-sale on the real broker and Redis: aftersale_response and logistics_stalled fire
warning, breached and level 3 and stop on every stop condition; complaints, 1-2 star
reviews and platform intervention escalate at once; its response clocks use the
after-sale budgets. All scenarios start together; each test checks its own part."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from contracts import topics
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.services import running

pytestmark = pytest.mark.e2e
SETTLE_UNTIL = 7.5  # every level 3 of the module is due by then (latest: scan at +1.5 s)
FULL = [("breached", 2), ("breached", 3), ("warning", 1)]


@pytest.fixture(scope="module")
async def aftersale(stack, kafka, tmp_path_factory):
    policy = r.write_policy(tmp_path_factory.mktemp("aftersale-policy"))
    async with running("aftersale", stack.settings(policy_file=policy)) as app:
        yield app


def case(event_type: str, shop: str, case_id: str, order_id: str, at=None, **payload) -> dict:
    return r.envelope(event_type, shop, {"case_id": case_id, "order_id": order_id, **payload},
                      at=at)


@pytest.fixture(scope="module")
async def sent(aftersale, kafka):
    shop, t0 = unique("shop"), r.now()
    ids = {n: unique(n) for n in ("case", "by", "agreed", "rejected", "refunded", "closed",
                                  "one_scan", "scanned", "delivered", "returned", "cancelled",
                                  "complaint", "low", "ok", "intervened", "chat")}
    respond_by = t0 + timedelta(seconds=2.5)
    o = unique("o")
    events = [case("aftersale.requested", shop, ids["case"], o, at=t0, buyer_id="b1",
                   kind="refund_only"),
              case("aftersale.requested", shop, ids["by"], o, at=t0, buyer_id="b1",
                   kind="exchange", respond_by=r.iso(respond_by))]
    for status in ("agreed", "rejected", "refunded", "closed"):
        events += [case("aftersale.requested", shop, ids[status], o, buyer_id="b1",
                        kind="return_refund"),
                   case("aftersale.updated", shop, ids[status], o, status=status)]
    scan = {"tracking_no": "SF2", "status": "in_transit"}
    second_scan_at = t0 + timedelta(seconds=1.5)
    events += [r.order("order.shipped", shop, ids["scanned"], carrier="SF", tracking_no="SF2"),
               r.order("logistics.update", shop, ids["one_scan"], at=t0, **scan),
               r.order("logistics.update", shop, ids["scanned"], at=t0, **scan),
               r.order("logistics.update", shop, ids["scanned"], at=second_scan_at,
                       **{**scan, "status": "out_for_delivery"})]
    for status in ("delivered", "returned"):
        events += [r.order("logistics.update", shop, ids[status], **scan),
                   r.order("logistics.update", shop, ids[status], **{**scan, "status": status}),
                   r.order("logistics.update", shop, ids[status], **scan)]  # late scan
    events += [r.order("logistics.update", shop, ids["cancelled"], **scan),
               r.order("order.cancelled", shop, ids["cancelled"])]
    events += [r.order("review.posted", shop, ids["low"], buyer_id="b1", rating=2),
               r.order("review.posted", shop, ids["ok"], buyer_id="b1", rating=3),
               case("aftersale.updated", shop, ids["intervened"], o,
                    status="platform_intervened")]
    complaint = r.buyer(shop, ids["complaint"], intent="complaint", priority="urgent", at=t0)
    events += [complaint, r.buyer(shop, ids["complaint"], intent="complaint", priority="urgent"),
               r.buyer(shop, ids["chat"], at=t0), r.agent_says(shop, ids["chat"]),
               r.buyer(shop, ids["chat"], at=t0 + timedelta(milliseconds=50))]
    for event in events:
        topic = topics.ROLE_AFTERSALE if "conversation_id" in event["payload"] else topics.ORDERS
        await kafka.send(topic, event, r.key_of(event))
    time_left = SETTLE_UNTIL - (r.now() - t0).total_seconds()
    # everything the shop got until every clock of the scenario has settled
    found = await kafka.collect(topics.ESCALATIONS, r.on_shop(shop), count=10_000,
                                timeout=max(1.0, time_left), at_least=0)
    return {"t0": t0, "ids": ids, "respond_by": respond_by, "scan_at": second_scan_at,
            "complaint": complaint, "escalations": [body for body, _ in found]}


def about(sent, name: str, sla: str | None = None) -> list[dict]:
    return [b for b in sent["escalations"] if b["subject"]["id"] == sent["ids"][name]
            and (sla is None or b["sla"] == sla)]


def levels(bodies) -> list[tuple[str, int]]:
    return sorted((b["state"], b["level"]) for b in bodies)


def deadlines(bodies) -> set[datetime]:
    return {datetime.fromisoformat(b["deadline"]) for b in bodies}


async def test_aftersale_response_from_the_policy_or_respond_by(sent) -> None:
    default, given = about(sent, "case"), about(sent, "by")
    assert levels(default) == levels(given) == FULL
    assert {(b["sla"], b["role"], b["subject"]["kind"]) for b in default + given} == {
        ("aftersale_response", "aftersale", "case")}
    assert deadlines(default) == {sent["t0"] + timedelta(seconds=2)}
    assert deadlines(given) == {sent["respond_by"]}


async def test_agreed_rejected_refunded_closed_stop_the_case_clock(sent) -> None:
    for status in ("agreed", "rejected", "refunded", "closed"):
        assert about(sent, status) == [], status


async def test_logistics_stalled_from_the_first_scan_and_restarted_by_every_scan(sent):
    one_scan, scanned = about(sent, "one_scan"), about(sent, "scanned")
    assert levels(one_scan) == levels(scanned) == FULL
    assert {b["sla"] for b in one_scan + scanned} == {"logistics_stalled"}
    assert deadlines(one_scan) == {sent["t0"] + timedelta(seconds=2)}
    assert deadlines(scanned) == {sent["scan_at"] + timedelta(seconds=2)}, "restarted"


async def test_delivered_returned_and_cancelled_stop_the_parcel_clock(sent) -> None:
    for name in ("delivered", "returned", "cancelled"):
        assert about(sent, name) == [], name


async def test_raised_at_once_for_reviews_and_platform_intervention(sent) -> None:
    [low] = about(sent, "low")
    assert (low["sla"], low["state"], low["level"], low["deadline"]) == (
        "negative_review", "raised", 2, None)
    assert low["subject"] == {"kind": "order", "id": sent["ids"]["low"]}
    assert about(sent, "ok") == []
    [intervened] = about(sent, "intervened")
    assert (intervened["sla"], intervened["state"], intervened["subject"]["kind"]) == (
        "platform_intervened", "raised", "case")


async def test_complaint_raises_once_per_unanswered_stretch(sent) -> None:
    raised = about(sent, "complaint", "complaint")
    assert {(b["state"], b["level"], b["deadline"]) for b in raised} == {("raised", 2, None)}
    assert len({b["escalation_id"] for b in raised}) == 1, "two angry messages, one cause"
    assert raised[0]["trace_id"] == sent["complaint"]["trace_id"]
    assert levels(about(sent, "complaint", "first_response")) == FULL


async def test_next_response_uses_the_aftersale_budget(sent) -> None:
    bodies = about(sent, "chat")
    assert levels(bodies) == FULL and {b["sla"] for b in bodies} == {"next_response"}
    [deadline] = deadlines(bodies)
    assert deadline == sent["t0"] + timedelta(milliseconds=50, seconds=3)
