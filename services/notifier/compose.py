"""Word a `Draft` into a `Notification`: the template values in the recipient's
locale, dates in the shop's timezone, the channel of the audience (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts import Notification
from services.core.masking import mask_sensitive
from services.core.policy import ShopPolicy
from services.notifier import phrases as p
from services.notifier import wording as w
from services.notifier.decide import Draft
from services.notifier.templates import render


@dataclass(frozen=True, slots=True)
class Recipient:
    """What kefu remembers about the people of a draft: the order's buyer and locale
    (from order.created/paid), the agent holding the conversation (from assignments:
    `agent_id` None and `queued` true means nobody has it yet)."""

    buyer_id: str | None = None
    locale: str | None = None
    agent_id: str | None = None
    queued: bool = False


def _holder(draft: Draft, who: Recipient, locale: str) -> str:
    if who.agent_id:
        return who.agent_id
    if who.queued:
        return "nobody yet (queued)" if locale == "en" else "暂无（排队中）"
    team = w.pick(p.ROLE_WORDS, draft.facts.get("role", ""), locale)
    return f"unknown ({team})" if locale == "en" else f"未知（{team}）"


def template_values(draft: Draft, who: Recipient, locale: str, policy: ShopPolicy,
                    now: datetime) -> dict[str, str]:
    """Everything a template of the draft's kind may use, as text."""
    f = draft.facts
    values = {"order_id": draft.order_id or "", "carrier": f.get("carrier", ""),
              "tracking_no": f.get("tracking_no", "")}
    if draft.kind == "logistics_update":
        values["status"] = w.pick(p.STATUS_WORDS, f["status"], locale)
        # what the carrier wrote may name the courier's phone or the buyer's address
        values["scan"] = mask_sensitive(w.scan_words(f.get("description"), f.get("location"),
                                                     locale))
    elif draft.kind == "delay_notice":
        values["reason"] = mask_sensitive(w.reason_words(f["reason"], locale))
        values["new_ship_by"] = w.format_date(f["new_ship_by"], policy.timezone, locale, today=now)
    elif draft.kind in ("escalation_alert", "escalation_retracted"):
        subject = w.pick(p.SUBJECT_WORDS, f["subject_kind"], locale, "{}").format(f["subject_id"])
        values |= {
            "level": w.pick(p.LEVEL_WORDS, f["level"], locale, f"L{f['level']}"),
            "sla": w.pick(p.SLA_WORDS, f["sla"], locale),
            "subject": subject,
            "role": w.pick(p.ROLE_WORDS, f["role"], locale),
        }
        if draft.kind == "escalation_alert":
            values["lateness"] = w.lateness(f["state"], f["deadline"], f["fired_at"], locale)
            values["holder"] = _holder(draft, who, locale)
    return values


def compose(draft: Draft, who: Recipient, policy: ShopPolicy, now: datetime) -> Notification:
    notify = policy.notify
    if draft.audience == "buyer":
        locale = w.normalise_locale(who.locale, notify.locale)
    else:
        locale = notify.locale
    values = template_values(draft, who, locale, policy, now)
    return Notification(
        notification_id=draft.notification_id,
        shop_id=draft.shop_id,
        audience=draft.audience,
        kind=draft.kind,
        channel=getattr(notify.channels, draft.audience),
        locale=locale,
        text=render(draft.kind, locale, values, notify.templates),
        order_id=draft.order_id,
        buyer_id=who.buyer_id if draft.audience == "buyer" else None,
        created_at=now,
        conversation_id=draft.conversation_id,
        trace_id=draft.trace_id,
    )
