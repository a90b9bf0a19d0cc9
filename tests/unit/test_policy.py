from datetime import date, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from services.core.business_hours import BusinessCalendar
from services.core.policy import (
    INTENTS,
    deep_merge,
    load_policy,
    parse_policy,
)

CONTRACT_EXAMPLE = """\
shops:
  default:
    timezone: Asia/Shanghai
    business_hours:
      mon-sun: [["08:00", "24:00"]]
    holidays: []
    warn_at: 0.8
    level3_after: 2.0
    sla:
      presale:   {first_response: 3m, next_response: 3m}
      aftersale: {first_response: 3m, next_response: 5m}
      ship_by: 48h
      order_change_confirmation: 24h
      aftersale_response: 48h
      logistics_stalled: 48h
    notify:
      quiet_hours: ["22:00", "08:00"]
      locale: zh-CN
    routing:
      keywords: {}
  shop-123:
    sla: {presale: {first_response: 30s}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_contract_defaults() -> None:
    d = load_policy(None).default
    assert d.timezone == ZoneInfo("Asia/Shanghai")
    assert d.business_hours == {"mon-sun": [(480, 1440)]}
    assert d.holidays == ()
    assert (d.warn_at, d.level3_after) == (0.8, 2.0)
    m = timedelta(minutes=1)
    assert (d.sla.presale.first_response, d.sla.presale.next_response) == (3 * m, 3 * m)
    assert (d.sla.aftersale.first_response, d.sla.aftersale.next_response) == (3 * m, 5 * m)
    assert d.sla.ship_by == d.sla.aftersale_response == d.sla.logistics_stalled
    assert d.sla.ship_by == timedelta(hours=48)
    assert d.sla.order_change_confirmation == timedelta(hours=24)
    assert d.notify.quiet_hours == (time(22), time(8))
    assert d.notify.locale == "zh-CN"
    assert d.routing.keywords == {}
    assert isinstance(d.calendar, BusinessCalendar)
    assert d.calendar.weekly == ((((480, 1440),),) * 7)


def test_extension_defaults() -> None:
    d = load_policy(None).default
    assert d.assignment.sticky_window == timedelta(hours=72)
    assert (d.notify.channels.buyer, d.notify.channels.supervisor) == ("log", "log")
    hook = d.notify.webhook
    assert (hook.url, hook.secret_env, hook.max_attempts) == (None, None, 5)
    assert (hook.unsigned, hook.allow_http) == (False, False), "fail closed by default"
    assert (hook.timeout, hook.backoff_base) == (timedelta(seconds=5), timedelta(milliseconds=500))
    lu = d.notify.logistics_updates
    assert (lu.in_transit, lu.max_per_order, lu.window) == (False, 3, timedelta(hours=24))
    assert d.notify.templates == {}
    assert d.ingest.secret_env is None  # the gateway falls back to KEFU_INGEST_SECRET


def test_defaults_yaml_is_package_data() -> None:
    assert resources.files("services.core.policy").joinpath("defaults.yaml").is_file()


def test_a_shop_may_allow_a_plain_http_webhook_for_itself_only(tmp_path: Path) -> None:
    text = """\
shops:
  lan-shop:
    notify: {webhook: {url: "http://10.0.0.5:8080/kefu", allow_http: true}}
"""
    policy = load_policy(write(tmp_path, text))
    assert policy.for_shop("lan-shop").notify.webhook.url == "http://10.0.0.5:8080/kefu"
    assert policy.default.notify.webhook.allow_http is False


def test_contract_example_file_and_inheritance(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, CONTRACT_EXAMPLE))
    shop = policy.for_shop("shop-123")
    assert shop.sla.presale.first_response == timedelta(seconds=30)
    # everything else is inherited
    expected = policy.default.model_dump()
    expected["sla"]["presale"]["first_response"] = timedelta(seconds=30)
    assert shop.model_dump() == expected
    assert shop.calendar.weekly == policy.default.calendar.weekly
    # cached, and unknown shops get the default
    assert policy.for_shop("shop-123") is shop
    assert policy.for_shop("shop-999") is policy.default


def test_file_default_overrides_builtins_and_shops_inherit_it(tmp_path: Path) -> None:
    text = """\
shops:
  default:
    timezone: America/New_York
    holidays: ["2026-12-25", 2026-07-04]
    notify: {locale: en, quiet_hours: []}
    routing: {keywords: {quality_issue: ["起球", "pilling"]}}
  shop-a:
    notify:
      channels: {buyer: webhook}
      webhook: {url: "https://hooks.example.com/kefu", secret_env: SHOP_A_HMAC}
      templates: {en: {shipped: "Your order {order_id} is on its way"}}
    routing: {keywords: {quality_issue: ["lint"]}}   # lists replace
"""
    policy = load_policy(write(tmp_path, text))
    shop = policy.for_shop("shop-a")
    assert shop.timezone == ZoneInfo("America/New_York")
    assert shop.holidays == (date(2026, 12, 25), date(2026, 7, 4))
    assert date(2026, 12, 25) in shop.calendar.holidays
    assert shop.notify.locale == "en" and shop.notify.quiet_hours is None
    assert shop.notify.channels.buyer == "webhook" and shop.notify.channels.supervisor == "log"
    assert shop.notify.webhook.timeout == timedelta(seconds=5)  # merged, not replaced
    assert shop.notify.templates["en"]["shipped"].startswith("Your order")
    assert shop.routing.keywords == {"quality_issue": ["lint"]}
    assert policy.default.routing.keywords == {"quality_issue": ["起球", "pilling"]}
    assert policy.default.sla.presale.first_response == timedelta(minutes=3)  # built-in


def test_business_hours_resolution(tmp_path: Path) -> None:
    text = """\
shops:
  default:
    business_hours:
      mon-fri: [["09:00", "12:00"], ["13:30", "22:00"]]
      sat: [["10:00", "16:00"]]
      sun: []
      wed-thu: [["10:00", "11:00"]]
      tue-wed: [["07:00", "08:00"]]
"""
    weekly = load_policy(write(tmp_path, text)).default.calendar.weekly
    assert weekly[0] == weekly[4] == ((540, 720), (810, 1320))  # mon-fri beats mon-sun
    assert weekly[1] == ((420, 480),)  # only tue-wed matches narrower than mon-fri
    assert weekly[2] == ((420, 480),)  # tie wed-thu / tue-wed: the later key wins
    assert weekly[3] == ((600, 660),)
    assert weekly[5] == ((600, 960),)  # single day beats ranges
    assert weekly[6] == ()  # explicitly closed


def test_wrap_around_range_and_shop_single_day_override() -> None:
    data = {
        "shops": {
            "default": {"business_hours": {"fri-mon": [["10:00", "20:00"]]}},
            "shop-b": {"business_hours": {"sun": [["12:00", "24:00"]]}},
        }
    }
    policy = parse_policy(data, "inline")
    weekly = policy.default.calendar.weekly
    assert weekly[4] == weekly[5] == weekly[6] == weekly[0] == ((600, 1200),)
    assert weekly[1] == ((480, 1440),)  # tue still comes from the built-in mon-sun
    assert policy.for_shop("shop-b").calendar.weekly[6] == ((720, 1440),)
    assert policy.for_shop("shop-b").calendar.weekly[5] == ((600, 1200),)


def test_all_intents_accepted() -> None:
    keywords = {intent: ["x"] for intent in INTENTS}
    policy = parse_policy({"shops": {"default": {"routing": {"keywords": keywords}}}})
    assert set(policy.default.routing.keywords) == set(INTENTS) and len(INTENTS) == 9


def test_deep_merge_semantics() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = deep_merge(base, {"a": {"c": [3]}, "e": {"f": 1}})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": {"f": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # inputs untouched
