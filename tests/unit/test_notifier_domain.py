"""The notifier's pure domain: which events notify whom (and under which id), quiet
hours, log masking, webhook retry classification and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from contracts import Escalation, Notification, example, parse_inbound
from services.core.masking import ADDRESS_MASK, mask_sensitive
from services.notifier.channels import LogChannel, backoff_delay, classify, safe_url
from services.notifier.decide import drafts_for_escalation, drafts_for_order_event
from services.notifier.quiet import quiet_until
from services.notifier.wording import normalise_locale

SHANGHAI = ZoneInfo("Asia/Shanghai")


def event(event_type: str, **payload):
    return parse_inbound(orjson.dumps(example(event_type, payload=payload)))


def escalation(level: int, state: str = "breached", sla: str = "logistics_stalled",
               kind: str = "order", escalation_id: str | None = None, deadline=None):
    deadline = deadline or "2026-11-22T08:00:00+08:00"
    return Escalation.model_validate({
        "escalation_id": escalation_id or f"esc-{level}-{state}", "shop_id": "s1",
        "role": "aftersale", "subject": {"kind": kind, "id": "o-1"}, "sla": sla,
        "level": level, "state": state, "deadline": deadline,
        "fired_at": "2026-11-22T09:00:00+08:00"})


# --- what notifies whom -------------------------------------------------------------------
@pytest.mark.parametrize(("event_type", "payload", "kinds"), [
    ("order.created", {}, []),
    ("order.paid", {}, []),
    ("order.cancelled", {}, []),
    ("order.shipped", {}, ["shipped"]),
    ("order.delayed", {}, ["delay_notice"]),
    ("logistics.update", {"status": "in_transit"}, []),
    ("logistics.update", {"status": "out_for_delivery"}, ["logistics_update"]),
    ("logistics.update", {"status": "exception"}, ["logistics_update"]),
    ("logistics.update", {"status": "returned"}, ["logistics_update"]),
    ("logistics.update", {"status": "delivered"}, ["delivered"]),
    ("aftersale.requested", {}, []),
    ("review.posted", {}, []),
])
def test_order_events_and_the_buyer_notices_they_cause(event_type, payload, kinds):
    drafts = drafts_for_order_event(event(event_type, **payload), in_transit=False)
    assert [d.kind for d in drafts] == kinds
    assert all(d.audience == "buyer" and d.order_id == "ord-20261122-5531" for d in drafts)


def test_in_transit_scans_only_when_the_shop_asks_and_they_count_against_the_cap():
    [draft] = drafts_for_order_event(event("logistics.update", status="in_transit"),
                                     in_transit=True)
    assert draft.kind == "logistics_update" and draft.capped
    [delivered] = drafts_for_order_event(event("logistics.update", status="delivered"),
                                         in_transit=True)
    assert not delivered.capped


def test_ids_are_deterministic_per_cause_kind_and_audience():
    shipped = event("order.shipped")
    first = drafts_for_order_event(shipped, in_transit=False)[0].notification_id
    assert drafts_for_order_event(shipped, in_transit=False)[0].notification_id == first
    other = parse_inbound(orjson.dumps(example("order.shipped", event_id="evt-other")))
    assert drafts_for_order_event(other, in_transit=False)[0].notification_id != first


def test_a_retraction_is_told_only_where_an_alert_was_sent():
    """A supervisor alerted of a breach that never was hears that it was false; nobody
    is told about a warning they never got, nor about a breach resolved late."""
    assert [d.kind for d in drafts_for_escalation(escalation(1, "retracted", "ship_by"))] == []
    for level in (2, 3):
        [told] = drafts_for_escalation(escalation(level, "retracted", "ship_by"))
        assert (told.kind, told.audience, told.facts["level"]) == (
            "escalation_retracted", "supervisor", level)
    assert drafts_for_escalation(escalation(2, "resolved", "ship_by")) == []


def test_alerts_from_level_two_only():
    assert [d.kind for d in drafts_for_escalation(escalation(1, sla="ship_by"))] == []
    for level in (2, 3):
        [alert] = drafts_for_escalation(escalation(level, sla="ship_by"))
        assert alert.kind == "escalation_alert" and alert.audience == "supervisor"
        assert alert.order_id == "o-1" and alert.facts["level"] == level


def test_one_stalled_parcel_notice_per_stall_whatever_the_level():
    ids = set()
    for level, state in ((1, "warning"), (2, "breached"), (3, "breached")):
        stalled = [d for d in drafts_for_escalation(escalation(level, state))
                   if d.kind == "stalled_parcel"]
        assert len(stalled) == 1 and stalled[0].audience == "buyer"
        ids.add(stalled[0].notification_id)
    same_instant = escalation(2, deadline="2026-11-22T00:00:00+00:00", escalation_id="other")
    ids.add(next(d for d in drafts_for_escalation(same_instant)
                 if d.kind == "stalled_parcel").notification_id)
    assert len(ids) == 1, "the stall (order and deadline) is the cause, not one escalation"
    next_stall = escalation(1, deadline="2026-11-24T08:00:00+08:00")
    assert drafts_for_escalation(next_stall)[0].notification_id not in ids


def test_alert_ids_differ_per_escalation():
    a = drafts_for_escalation(escalation(2, sla="complaint", escalation_id="a"))
    b = drafts_for_escalation(escalation(2, sla="complaint", escalation_id="b"))
    assert a[0].notification_id != b[0].notification_id


def test_locale_normalisation():
    assert normalise_locale("en-US", "zh-CN") == "en"
    assert normalise_locale("zh_Hans", "en") == "zh-CN"
    assert normalise_locale("fr", "zh-CN") == "zh-CN"
    assert normalise_locale(None, "en") == "en"


# --- quiet hours ---------------------------------------------------------------------------
def at(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("now", "until"), [
    (at(23, 30), at(8, 0, day=23)),
    (at(2, 0), at(8, 0)),
    (at(7, 59), at(8, 0)),
    (at(8, 0), None),
    (at(21, 59), None),
    (at(22, 0), at(8, 0, day=23)),
])
def test_quiet_hours_over_midnight(now, until):
    assert quiet_until(now, (time(22), time(8)), SHANGHAI) == until


def test_quiet_hours_in_the_day_and_none():
    window = (time(12), time(13, 30))
    assert quiet_until(at(12, 10), window, SHANGHAI) == at(13, 30)
    assert quiet_until(at(12, 0), window, SHANGHAI) == at(13, 30), "quiet from its start"
    assert quiet_until(at(11, 59), window, SHANGHAI) is None
    assert quiet_until(at(13, 30), window, SHANGHAI) is None
    assert quiet_until(at(23), None, SHANGHAI) is None


def test_quiet_hours_are_wall_time_of_the_shop():
    utc_now = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    until = quiet_until(utc_now, (time(22), time(8)), SHANGHAI)
    assert until == at(8, 0, day=23) and until.astimezone(UTC).hour == 0
    assert quiet_until(utc_now, (time(22), time(8)), ZoneInfo("Europe/Berlin")) is None


def test_quiet_hours_across_a_dst_change():
    new_york = ZoneInfo("America/New_York")
    before = datetime(2026, 3, 7, 23, 0, tzinfo=new_york)  # the clocks spring forward at 2:00
    until = quiet_until(before, (time(22), time(8)), new_york)
    assert until == datetime(2026, 3, 8, 8, 0, tzinfo=new_york)
    assert until.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=8)


# --- masking ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "masked"), [
    ("派送员张师傅，电话13912345678", "派送员张师傅，电话139****5678"),
    ("call +86 139-1234-5678", "call 139****5678"),
    ("座机 0571-88886666", "座机 057*******66"),
    ("tel (020) 8888-6666", "tel 020******66"),
    ("收货地址：浙江省杭州市西湖区文三路100号3栋201室", f"收货地址：{ADDRESS_MASK}"),
    ("送到幸福小区门口", f"送到{ADDRESS_MASK}"),  # greedy on purpose: the rest of the run goes
    ("ship to 221B Baker Street, London", f"ship to {ADDRESS_MASK}, London"),
    ("deliver to 1600 Amphitheatre Parkway Dr Apt 5", f"deliver to {ADDRESS_MASK}"),
])
def test_phone_numbers_and_addresses_are_masked(text, masked):
    assert mask_sensitive(text) == masked


@pytest.mark.parametrize("text", [
    "亲，您的订单ord-20261122-5531（运单号：ZT7300012345678）已发货",
    "快件已到达【杭州转运中心】",
    "新的预计发货日期为11月26日",
    "Your order o-1 shows as delivered on 26 Nov 2026",
])
def test_ordinary_notice_text_is_left_alone(text):
    assert mask_sensitive(text) == text


# --- webhook retries ---------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "outcome"), [
    (200, "ok"), (204, "ok"), (301, "permanent"), (400, "permanent"), (401, "permanent"),
    (404, "permanent"), (429, "retry"), (500, "retry"), (503, "retry"),
])
def test_which_answers_are_retried(status, outcome):
    assert classify(status) == outcome


def test_backoff_is_exponential_with_jitter_and_capped():
    for attempt, full in ((1, 0.5), (2, 1.0), (3, 2.0)):
        assert backoff_delay(attempt, 0.5, rand=lambda: 0.0) == full / 2
        assert backoff_delay(attempt, 0.5, rand=lambda: 1.0) == full
    assert backoff_delay(30, 0.5, rand=lambda: 1.0) == 60.0
    assert backoff_delay(1, 0.5, retry_after=7, rand=lambda: 1.0) == 7
    assert backoff_delay(1, 0.5, retry_after=7200, rand=lambda: 1.0) == 60.0


def test_logged_urls_drop_the_query():
    assert safe_url("https://hooks.shop.cn:8443/kefu?token=abc") == "https://hooks.shop.cn:8443/kefu"


async def test_the_log_channel_masks_the_text_it_logs():
    lines = []

    class FakeLog:
        def info(self, event, **fields):
            lines.append((event, fields))

    n = Notification(notification_id="n-1", shop_id="s1", audience="buyer", kind="logistics_update",
                     channel="log", locale="zh-CN", order_id="o-1", buyer_id="b-1",
                     text="亲，您的订单o-1正在派送中。最新物流：派送员电话13912345678，"
                          "送往文三路100号3栋201室。", created_at=datetime.now(UTC))
    delivery = await LogChannel(FakeLog()).deliver(n)
    [(event, fields)] = lines
    assert delivery.ok and event == "notification" and fields["notification_id"] == "n-1"
    assert "13912345678" not in fields["text"] and "139****5678" in fields["text"]
    assert "文三路100号" not in fields["text"] and ADDRESS_MASK in fields["text"]
