"""Plain words for the values that go into notification texts: dates in the shop's
timezone, durations in human units, lateness, carrier scans, delay reasons (pure; the
word tables are in `phrases`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from services.notifier.phrases import ALIASES, GENERIC, REASON_CODES

LOCALES = ("zh-CN", "en")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def normalise_locale(value: object, default: str) -> str:
    """``en-US`` -> ``en``, ``zh``/``zh-Hans`` -> ``zh-CN``; anything else -> ``default``."""
    if not isinstance(value, str):
        return default
    lang = value.strip().replace("_", "-").split("-")[0].lower()
    return {"zh": "zh-CN", "en": "en"}.get(lang, default)


def format_date(when: datetime, tz: tzinfo, locale: str, *, today: datetime) -> str:
    """The calendar date of `when` in the shop's timezone: ``11月24日`` / ``24 Nov``; the
    year is added when it is not the year of `today` (``2027年1月3日`` / ``3 Jan 2027``)."""
    local, ref = when.astimezone(tz), today.astimezone(tz)
    with_year = local.year != ref.year
    if locale == "en":
        text = f"{local.day} {_MONTHS[local.month - 1]}"
        return f"{text} {local.year}" if with_year else text
    text = f"{local.month}月{local.day}日"
    return f"{local.year}年{text}" if with_year else text


_UNITS = {
    "zh-CN": (("天", "天"), ("小时", "小时"), ("分钟", "分钟"), ("秒", "秒")),
    "en": (("day", "days"), ("hour", "hours"), ("minute", "minutes"), ("second", "seconds")),
}


def human_duration(span: timedelta, locale: str) -> str:
    """The largest unit and the next one: ``2小时5分钟`` / ``2 hours 5 minutes``."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    counts = (days, hours, minutes, secs)
    first = next((i for i, count in enumerate(counts) if count), 3)
    shown = [first] + ([first + 1] if first < 3 and counts[first + 1] else [])
    words = _UNITS[locale]
    if locale == "en":
        return " ".join(f"{counts[i]} {words[i][counts[i] != 1]}" for i in shown)
    return "".join(f"{counts[i]}{words[i][0]}" for i in shown)




def pick(table: dict, key: str, locale: str, default: str = "") -> str:
    """The word of `key` in `locale` from a ``{key: (zh, en)}`` table."""
    pair = table.get(key)
    if pair is None:
        return default or key.replace("_", " ")
    return pair[1] if locale == "en" else pair[0]


def lateness(state: str, deadline: datetime | None, fired_at: datetime, locale: str) -> str:
    """How late: ``已超时2小时5分钟`` / ``is overdue by 2 hours 5 minutes``; a warning says
    how long is left; ``raised`` (or no deadline) says it needs attention now."""
    en = locale == "en"
    if state == "raised" or deadline is None:
        return "needs attention now" if en else "需要立即处理"
    if state == "warning" and deadline > fired_at:
        left = human_duration(deadline - fired_at, locale)
        return f"is due in {left}" if en else f"还有{left}到期"
    late = fired_at - deadline
    if late < timedelta(minutes=1):
        return "is overdue as of now" if en else "刚刚超时"
    over = human_duration(late, locale)
    return f"is overdue by {over}" if en else f"已超时{over}"




def scan_words(description: str | None, location: str | None, locale: str) -> str:
    """The carrier's own scan text, quoted: ``最新物流：…（…）。`` / ``Latest scan: … (…).``"""
    desc, loc = (description or "").strip(), (location or "").strip()
    if not desc and not loc:
        return ""
    body = desc or loc
    if desc and loc and loc not in desc:
        body = f"{desc}（{loc}）" if locale != "en" else f"{desc} ({loc})"
    return f"Latest scan: {body}." if locale == "en" else f"最新物流：{body}。"


_CODE = re.compile(r"[a-z][a-z0-9]*(?:[_\-.][a-z0-9]+)*")
_TRAILING = "。．.!！;；,，、 \t\n"


def reason_words(reason: str, locale: str) -> str:
    """A delay reason in plain words: known machine codes (``out_of_stock``) are spelled
    out, unknown codes become a generic apology, the shop's own text is kept as written
    (without trailing punctuation, which the template supplies)."""
    text = " ".join(reason.split()).rstrip(_TRAILING)
    key = text.lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key in REASON_CODES:
        pair = REASON_CODES[key]
    elif not text or (_CODE.fullmatch(text.lower()) and "_" in key):
        pair = GENERIC
    else:
        return text
    return pair[1] if locale == "en" else pair[0]
