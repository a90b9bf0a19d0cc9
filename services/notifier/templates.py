"""Notification texts: built-in templates per kind and locale, the placeholders each
kind offers, shop overrides (``notify.templates``), checked once at start-up.

Placeholders are ``{name}`` only (no positions, attributes, indexes or format specs),
so an override cannot reach into objects or fail at render time."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "shipped": frozenset({"order_id", "carrier", "tracking_no"}),
    "logistics_update": frozenset({"order_id", "tracking_no", "status", "scan"}),
    "delivered": frozenset({"order_id", "tracking_no"}),
    "delay_notice": frozenset({"order_id", "reason", "new_ship_by"}),
    "stalled_parcel": frozenset({"order_id"}),
    "escalation_alert": frozenset({"level", "sla", "subject", "lateness", "holder", "role"}),
    "escalation_retracted": frozenset({"level", "sla", "subject", "role"}),
}

BUILT_IN: dict[str, dict[str, str]] = {
    "zh-CN": {
        "shipped": "亲，您的订单{order_id}已发货，快递公司：{carrier}，运单号：{tracking_no}，"
                   "可随时查看物流进度。",
        "logistics_update": "亲，您的订单{order_id}（运单号：{tracking_no}）{status}。{scan}",
        "delivered": "亲，您的订单{order_id}显示已签收。如有任何问题，欢迎随时联系我们。",
        "delay_notice": "亲，非常抱歉，您的订单{order_id}需要延迟发货，原因：{reason}。"
                        "新的预计发货日期为{new_ship_by}。给您带来不便，敬请谅解，"
                        "如有疑问请随时联系我们。",
        "stalled_parcel": "亲，您的订单{order_id}物流信息暂时没有更新，"
                          "我们正在联系快递公司核实情况，给您带来不便非常抱歉。",
        "escalation_alert": "【{level}】{subject}的{sla}{lateness}，当前负责人：{holder}。",
        "escalation_retracted": "【撤回】此前关于{subject}的{sla}提醒（{level}）不成立："
                                "已在时限内处理，无需跟进。",
    },
    "en": {
        "shipped": "Your order {order_id} has shipped with {carrier}, tracking number "
                   "{tracking_no}.",
        "logistics_update": "Your order {order_id} (tracking {tracking_no}) {status}. {scan}",
        "delivered": "Your order {order_id} shows as delivered. If anything is not right, "
                     "message us any time.",
        "delay_notice": "We are sorry: your order {order_id} will ship later than planned. "
                        "Reason: {reason}. The new expected ship date is {new_ship_by}. "
                        "We apologise for the inconvenience; message us any time if you "
                        "have questions.",
        "stalled_parcel": "The tracking of your order {order_id} has not updated for a while. "
                          "We are checking with the carrier. Sorry for the wait.",
        "escalation_alert": "[{level}] {sla} on {subject} {lateness}; held by {holder}.",
        "escalation_retracted": "[Retracted] The earlier {level} alert on {subject} ({sla}) "
                                "was false: it was handled in time. No action needed.",
    },
}  # fmt: skip


_SPACES = re.compile(r"[ \t]{2,}")


class TemplateError(ValueError):
    """A shop template that cannot be rendered; the message names the shop and key."""


def placeholder_problems(kind: str, text: str) -> list[str]:
    """What is wrong with `text` as a template of `kind` (empty when it is fine)."""
    allowed = PLACEHOLDERS[kind]
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"invalid template ({exc}); write literal braces as {{{{ and }}}}"]
    problems = []
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in allowed:
            shown = "{" + name + "}" if name else "{} (positional)"
            problems.append(f"unknown placeholder {shown}, expected one of "
                            + ", ".join("{" + p + "}" for p in sorted(allowed)))
        elif spec or conversion:
            problems.append(f"placeholder {{{name}}} must not have a format spec or conversion")
    return problems


def check_templates(shops: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
    """Validate every shop's ``notify.templates`` (``{shop: {locale: {kind: text}}}``);
    raise ``TemplateError`` listing each bad ``shops.<shop>.notify.templates.<locale>.<kind>``."""
    errors = []
    for shop, templates in shops.items():
        for locale, kinds in templates.items():
            for kind, text in kinds.items():
                for problem in placeholder_problems(kind, text):
                    errors.append(f"shops.{shop}.notify.templates.{locale}.{kind}: {problem}")
    if errors:
        raise TemplateError("\n".join(errors))


def template_for(kind: str, locale: str, overrides: Mapping[str, Mapping[str, str]]) -> str:
    """The shop's override of `kind` in `locale`, else the built-in text."""
    return overrides.get(locale, {}).get(kind) or BUILT_IN[locale][kind]


def render(kind: str, locale: str, values: Mapping[str, str],
           overrides: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The text of a notification; whitespace left by empty values is tidied away."""
    text = template_for(kind, locale, overrides or {}).format_map(dict(values))
    return _SPACES.sub(" ", text).strip()
