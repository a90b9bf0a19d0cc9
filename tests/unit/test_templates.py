"""Notification texts in both locales: dates in the shop's timezone, reasons in plain
words, no promises the shop did not make, shop overrides and their checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from contracts import Escalation, example, parse_inbound
from services.core.policy import parse_policy
from services.notifier.compose import Recipient, compose
from services.notifier.config import NotifierConfigError, check_policy_templates
from services.notifier.decide import drafts_for_escalation, drafts_for_order_event
from services.notifier.templates import BUILT_IN, PLACEHOLDERS, TemplateError, check_templates
from services.notifier.wording import format_date, human_duration, lateness, reason_words

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)
POLICY = parse_policy({"shops": {"en-shop": {"notify": {"locale": "en"}}}})
PROMISES = ("送达", "到货", "保证", "一定", "deliver by", "arrive", "guarantee",
            "will be delivered")


def notice(event_type: str, *, locale: str | None = None, shop: str = "shop-demo", **payload):
    event = parse_inbound(orjson.dumps(example(event_type, shop_id=shop, payload=payload)))
    [draft] = drafts_for_order_event(event, in_transit=True)
    who = Recipient(buyer_id="buyer-1", locale=locale)
    return compose(draft, who, POLICY.for_shop(shop), NOW)


# --- dates and durations --------------------------------------------------------------
def test_dates_are_calendar_dates_in_the_shop_timezone():
    late_utc = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 26 Nov 01:30 in Shanghai
    assert format_date(late_utc, SHANGHAI, "zh-CN", today=NOW) == "11月26日"
    assert format_date(late_utc, SHANGHAI, "en", today=NOW) == "26 Nov"
    assert format_date(late_utc, ZoneInfo("Europe/London"), "en", today=NOW) == "25 Nov"


def test_a_date_in_another_year_carries_the_year():
    next_year = datetime(2027, 1, 3, 12, tzinfo=SHANGHAI)
    assert format_date(next_year, SHANGHAI, "zh-CN", today=NOW) == "2027年1月3日"
    assert format_date(next_year, SHANGHAI, "en", today=NOW) == "3 Jan 2027"


@pytest.mark.parametrize(("span", "zh", "en"), [
    (timedelta(seconds=45), "45秒", "45 seconds"),
    (timedelta(minutes=1), "1分钟", "1 minute"),
    (timedelta(minutes=5, seconds=30), "5分钟30秒", "5 minutes 30 seconds"),
    (timedelta(hours=2, minutes=5, seconds=59), "2小时5分钟", "2 hours 5 minutes"),
    (timedelta(days=1, hours=3, minutes=7), "1天3小时", "1 day 3 hours"),
    (timedelta(days=2, minutes=7), "2天", "2 days"),
])
def test_durations_in_human_units(span, zh, en):
    assert human_duration(span, "zh-CN") == zh
    assert human_duration(span, "en") == en


def test_lateness_of_each_state():
    fired = NOW
    assert lateness("breached", fired - timedelta(minutes=125), fired, "zh-CN") == \
        "已超时2小时5分钟"
    assert lateness("breached", fired - timedelta(minutes=125), fired, "en") == \
        "is overdue by 2 hours 5 minutes"
    assert lateness("warning", fired + timedelta(minutes=3), fired, "zh-CN") == "还有3分钟到期"
    assert lateness("warning", fired + timedelta(minutes=3), fired, "en") == "is due in 3 minutes"
    assert lateness("raised", None, fired, "zh-CN") == "需要立即处理"
    assert lateness("raised", None, fired, "en") == "needs attention now"
    assert lateness("breached", fired, fired, "en") == "is overdue as of now"


# --- reasons --------------------------------------------------------------------------
def test_reason_codes_become_plain_words():
    assert reason_words("out_of_stock", "zh-CN") == "商品暂时缺货，正在补货"
    assert reason_words("OUT-OF-STOCK", "en") == "the item is temporarily out of stock"
    assert reason_words("stockout", "en") == "the item is temporarily out of stock"
    assert reason_words("warehouse_robot_fault", "en") == \
        "we need a little more time to prepare your order"
    assert reason_words("", "zh-CN") == "我们需要多一点时间为您备货"


def test_the_shops_own_reason_is_kept_without_trailing_punctuation():
    assert reason_words("灰色M码缺货，预计补货后发出。", "zh-CN") == "灰色M码缺货，预计补货后发出"
    assert reason_words("  Grey M is sold out!  ", "en") == "Grey M is sold out"


# --- buyer notices ----------------------------------------------------------------------
def test_delay_notice_apologises_gives_the_ship_date_and_promises_nothing_else():
    zh = notice("order.delayed", reason="out_of_stock", new_ship_by="2026-11-25T17:30:00+00:00")
    assert zh.locale == "zh-CN" and zh.kind == "delay_notice" and zh.audience == "buyer"
    assert "抱歉" in zh.text and "商品暂时缺货" in zh.text
    assert "新的预计发货日期为11月26日" in zh.text
    en = notice("order.delayed", locale="en-GB", reason="out_of_stock",
                new_ship_by="2026-11-25T17:30:00+00:00")
    assert en.locale == "en" and "sorry" in en.text.lower()
    assert "The new expected ship date is 26 Nov." in en.text
    for text in (zh.text, en.text):
        assert not any(word in text for word in PROMISES), text
        assert "25" not in text, "the UTC date would be a day early"


def test_shipped_names_carrier_and_tracking_number():
    zh = notice("order.shipped", carrier="中通快递", tracking_no="ZT7300012345678")
    assert "中通快递" in zh.text and "ZT7300012345678" in zh.text and "已发货" in zh.text
    en = notice("order.shipped", locale="en", carrier="SF Express", tracking_no="SF100")
    assert en.text == ("Your order ord-20261122-5531 has shipped with SF Express, tracking "
                       "number SF100.")
    assert en.buyer_id == "buyer-1" and en.channel == "log"


def test_logistics_update_words_the_scan_and_quotes_the_carrier():
    zh = notice("logistics.update", status="out_for_delivery", description="派送员王师傅正在派送",
                location="杭州市")
    assert "正在派送中" in zh.text and "最新物流：派送员王师傅正在派送（杭州市）。" in zh.text
    en = notice("logistics.update", locale="en", status="exception", description=None,
                location=None)
    assert en.text.endswith("message us if you need help.")
    assert not any(word in zh.text + en.text for word in PROMISES)


def test_phone_numbers_and_addresses_in_what_carriers_and_shops_wrote_are_masked():
    """A carrier scan or a shop's delay reason may carry a courier's or buyer's phone
    number and a full address: the notice masks them, whatever leaves kefu with it."""
    zh = notice("logistics.update", status="out_for_delivery",
                description="派送员王师傅（电话：139.1234.5678）正在派送至文三路100号3栋201室",
                location="幸福小区5号楼2单元301")
    assert "139****5678" in zh.text and "139.1234" not in zh.text
    assert "文三路100号" not in zh.text and "201室" not in zh.text and "2单元" not in zh.text
    assert "正在派送" in zh.text, "the rest of the scan is kept"
    en = notice("order.delayed", locale="en", reason="Call us on +86 138 1234 5678 first",
                new_ship_by="2026-11-25T17:30:00+00:00")
    assert "138****5678" in en.text and "1234 5678" not in en.text


def test_delivered_and_stalled_parcel_promise_nothing():
    delivered = notice("logistics.update", status="delivered")
    assert delivered.kind == "delivered" and "签收" in delivered.text
    esc = Escalation.model_validate({
        "escalation_id": "esc-1", "shop_id": "en-shop", "role": "aftersale",
        "subject": {"kind": "order", "id": "o-1"}, "sla": "logistics_stalled", "level": 1,
        "state": "breached", "deadline": "2026-11-22T08:00:00+08:00",
        "fired_at": "2026-11-22T09:00:00+08:00"})
    [draft] = drafts_for_escalation(esc)
    for policy, phrase in ((POLICY.default, "正在联系快递公司核实"),
                           (POLICY.for_shop("en-shop"), "checking with the carrier")):
        text = compose(draft, Recipient(), policy, NOW).text
        assert phrase in text and not any(word in text for word in PROMISES)


def test_escalation_alert_says_what_how_late_and_who_holds_it():
    esc = Escalation.model_validate({
        "escalation_id": "esc-2", "shop_id": "shop-demo", "role": "presale",
        "subject": {"kind": "conversation", "id": "conv-8812"}, "sla": "first_response",
        "level": 2, "state": "breached", "deadline": "2026-11-22T09:00:00+08:00",
        "fired_at": "2026-11-22T09:07:00+08:00"})
    [draft] = drafts_for_escalation(esc)
    zh = compose(draft, Recipient(agent_id="agent-lin"), POLICY.default, NOW)
    assert zh.text == "【L2 主管】会话 conv-8812的首次回复已超时7分钟，当前负责人：agent-lin。"
    assert zh.audience == "supervisor" and zh.conversation_id == "conv-8812"
    en = compose(draft, Recipient(queued=True), POLICY.for_shop("en-shop"), NOW)
    assert en.text == ("[L2 supervisor] First response on conversation conv-8812 is overdue "
                       "by 7 minutes; held by nobody yet (queued).")
    unknown = compose(draft, Recipient(), POLICY.for_shop("en-shop"), NOW)
    assert "held by unknown (pre-sale team)" in unknown.text


# --- overrides and their checks -----------------------------------------------------------
def test_a_shop_override_replaces_the_built_in_text():
    policy = parse_policy({"shops": {"s1": {"notify": {"templates": {
        "zh-CN": {"shipped": "【小美家】{order_id}已由{carrier}发出，单号{tracking_no}"}}}}}})
    event = parse_inbound(orjson.dumps(example("order.shipped", shop_id="s1")))
    [draft] = drafts_for_order_event(event, in_transit=False)
    text = compose(draft, Recipient(), policy.for_shop("s1"), NOW).text
    assert text == "【小美家】ord-20261122-5531已由中通快递发出，单号ZT7300012345678"


def test_built_in_templates_use_only_their_placeholders():
    check_templates({"built-in": BUILT_IN})
    assert set(BUILT_IN["zh-CN"]) == set(BUILT_IN["en"]) == set(PLACEHOLDERS)


@pytest.mark.parametrize(("text", "problem"), [
    ("{order_id} via {courier}", "unknown placeholder {courier}"),
    ("{order_id.__class__}", "unknown placeholder {order_id.__class__}"),
    ("{} shipped", "unknown placeholder {} (positional)"),
    ("{order_id!r}", "placeholder {order_id} must not have a format spec or conversion"),
    ("{order_id", "invalid template"),
])
def test_bad_placeholders_are_named_with_shop_and_key(text, problem):
    with pytest.raises(TemplateError) as info:
        check_templates({"s1": {"en": {"shipped": text}}})
    assert f"shops.s1.notify.templates.en.shipped: {problem}" in str(info.value)


def test_policy_check_names_the_shop_and_reports_inherited_errors_once():
    policy = parse_policy({"shops": {
        "default": {"notify": {"templates": {"en": {"delivered": "{order} arrived"}}}},
        "s1": {},
        "s2": {"notify": {"templates": {"zh-CN": {"delay_notice": "{reason} {eta}"}}}},
    }}, source="policy.yaml")
    with pytest.raises(NotifierConfigError) as info:
        check_policy_templates(policy)
    lines = str(info.value).splitlines()
    assert "policy.yaml: shops.default.notify.templates.en.delivered: unknown placeholder " \
        "{order}" in lines[0]
    assert any("shops.s2.notify.templates.zh-CN.delay_notice: unknown placeholder {eta}" in line
               for line in lines)
    assert not any("shops.s1." in line for line in lines)
