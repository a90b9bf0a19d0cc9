"""Every invalid policy file fails as a whole, naming the file and the bad key."""

from pathlib import Path

import pytest

from services.core.policy import PolicyError, load_policy


def shop_yaml(body: str, shop: str = "default") -> str:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return f"shops:\n  {shop}:\n{indented}\n"


def fail(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message.removeprefix(f"{path}: ")


CASES = {
    "bad duration": (
        shop_yaml("sla: {presale: {first_response: 3x}}", shop="shop-123"),
        "shops.shop-123.sla.presale.first_response: invalid duration '3x'",
    ),
    "duration without unit": (
        shop_yaml("sla: {ship_by: 48}"),
        "shops.default.sla.ship_by: invalid duration 48",
    ),
    "zero duration": (
        shop_yaml("assignment: {sticky_window: 0s}"),
        "shops.default.assignment.sticky_window: duration must be positive",
    ),
    "typo in a key": (
        shop_yaml("sla: {presale: {frist_response: 1m}}"),
        "shops.default.sla.presale.frist_response: unknown key (did you mean 'first_response'?)",
    ),
    "unknown top-level shop key": (
        shop_yaml("timezon: Asia/Shanghai", shop="s1"),
        "shops.s1.timezon: unknown key (did you mean 'timezone'?)",
    ),
    "bad timezone": (
        shop_yaml("timezone: Asia/Shangai"),
        "shops.default.timezone: unknown timezone 'Asia/Shangai'",
    ),
    "hour 25": (
        shop_yaml('business_hours: {mon-fri: [["09:00", "25:00"]]}'),
        "shops.default.business_hours.mon-fri.0.1: invalid time '25:00'",
    ),
    "unquoted time parsed by YAML as a number": (
        shop_yaml('business_hours: {sat: [[10:00, "12:00"]]}'),
        "shops.default.business_hours.sat.0.0: invalid time 600",
    ),
    "start after end": (
        shop_yaml('business_hours: {sat: [["22:00", "02:00"]]}'),
        "shops.default.business_hours.sat: interval start must be before end",
    ),
    "overlapping intervals": (
        shop_yaml('business_hours: {mon: [["09:00", "12:00"], ["11:30", "18:00"]]}'),
        "shops.default.business_hours.mon: overlapping intervals",
    ),
    "bad day range": (
        shop_yaml('business_hours: {mon-fry: [["09:00", "12:00"]]}'),
        "shops.default.business_hours.mon-fry: invalid day or day range 'mon-fry'",
    ),
    "no business hours at all": (
        shop_yaml("business_hours: {mon-sun: []}"),
        "shops.default.business_hours: no business hours on any day of the week",
    ),
    "bad holiday": (
        shop_yaml('holidays: ["2026-02-30"]'),
        "shops.default.holidays.0: invalid date '2026-02-30'",
    ),
    "webhook channel without url": (
        shop_yaml("notify: {channels: {supervisor: webhook}}", shop="s2"),
        "shops.s2.notify: channels.supervisor is 'webhook' but webhook.url is not set",
    ),
    "unknown channel": (
        shop_yaml("notify: {channels: {buyer: sms}}"),
        "shops.default.notify.channels.buyer: Input should be 'log' or 'webhook'",
    ),
    "unknown locale": (
        shop_yaml("notify: {locale: fr}"),
        "shops.default.notify.locale: Input should be 'zh-CN' or 'en'",
    ),
    "secret instead of env name": (
        shop_yaml('notify: {webhook: {url: "https://x.example", secret_env: "s3cr3t!"}}'),
        "shops.default.notify.webhook.secret_env: secret_env must be an environment variable",
    ),
    "plain http webhook": (
        shop_yaml('notify: {webhook: {url: "http://hooks.example.cn/kefu"}}', shop="s3"),
        "shops.s3.notify.webhook.url: http:// is refused (notifications would travel in clear "
        "text): use https://, or allow it for this shop with notify.webhook.allow_http: true",
    ),
    "ingest secret instead of env name": (
        shop_yaml('ingest: {secret_env: "hunter2 "}', shop="shop-9"),
        "shops.shop-9.ingest.secret_env: secret_env must be an environment variable",
    ),
    "unknown template kind": (
        shop_yaml('notify: {templates: {en: {shiped: "x"}}}'),
        "shops.default.notify.templates.en.shiped: unknown key, expected 'shipped'",
    ),
    "unknown intent": (
        shop_yaml('routing: {keywords: {qualty_issue: ["起球"]}}'),
        "shops.default.routing.keywords.qualty_issue: unknown key, expected 'greeting'",
    ),
    "warn_at 1.5": (
        shop_yaml("warn_at: 1.5"),
        "shops.default.warn_at: Input should be less than 1, got 1.5",
    ),
    "level3_after 1": (
        shop_yaml("level3_after: 1"),
        "shops.default.level3_after: Input should be greater than 1, got 1",
    ),
    "non-mapping yaml": ("- shops\n- default\n", "expected a mapping with a 'shops' key, got list"),
    "empty file": ("", "expected a mapping with a 'shops' key, got NoneType"),
    "unknown top-level key": ("shop:\n  default: {}\n", "shop: unknown key (expected 'shops')"),
    "shop not a mapping": ("shops:\n  s1: 5\n", "shops.s1: expected a mapping, got int"),
    "yaml syntax error": (
        "shops:\n  default:\n    sla: {presale: {first_response: 3m}\n    warn_at: 0.5\n",
        "line 4, column 5: invalid YAML",
    ),
    "duplicate key": (
        "shops:\n  default:\n    warn_at: 0.5\n    warn_at: 0.6\n",
        "line 4, column 5: invalid YAML: duplicate key 'warn_at'",
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_invalid_file_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert fail(tmp_path, text).startswith(expected)


def test_every_shop_is_validated_and_all_errors_reported(tmp_path: Path) -> None:
    text = (
        "shops:\n"
        "  shop-a: {sla: {ship_by: 2x}}\n"
        "  shop-b: {}\n"
        "  shop-c: {warn_at: 0}\n"
    )  # fmt: skip
    lines = fail(tmp_path, text).splitlines()
    assert lines[0] == "shops.shop-a.sla.ship_by: invalid duration '2x'"
    assert lines[1].endswith("shops.shop-c.warn_at: Input should be greater than 0, got 0")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="nope.yaml: cannot read policy file"):
        load_policy(tmp_path / "nope.yaml")
