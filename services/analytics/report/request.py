"""What a report is asked for: the shop, the window, the grouping. Dates are the shop's
local days (`--to` inclusive); RFC 3339 times are instants (`--to` exclusive)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from services.analytics.timefmt import ch_time

GROUPS = ("agent", "role", "intent", "hour", "day", "item")
GROUP_COLUMNS = {"agent": "agent_id", "role": "role", "intent": "intent",
                 "hour": "local_hour", "day": "local_date", "item": "agent_id"}
"""The rounds column each grouping reads (`item` groups products, not rounds)."""
DEFAULT_DAYS = 7
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadRequest(ValueError):
    """A parameter is wrong; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    shop_id: str
    start: datetime
    end: datetime
    by: str = "agent"
    intent: str | None = None  # filters the heatmap
    limit: int = 20  # products listed

    def params(self, as_of: datetime) -> dict[str, object]:
        return {"shop": self.shop_id, "from": ch_time(self.start), "to": ch_time(self.end),
                "as_of": ch_time(as_of), "by": GROUP_COLUMNS[self.by], "limit": self.limit,
                "intent": self.intent or ""}


def parse_bound(text: str, tz: tzinfo, *, end: bool, name: str) -> datetime:
    """A local date (`2026-11-02`; an end date includes that whole day) or an RFC 3339 time."""
    text = text.strip()
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text) + (timedelta(days=1) if end else timedelta(0))
            return datetime.combine(day, time(0), tz)
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is neither a date (YYYY-MM-DD) nor an RFC 3339 "
                         "time") from None
    if at.utcoffset() is None:
        raise BadRequest(f"{name}: {text!r} has no UTC offset (write e.g. +08:00)")
    return at


def report_request(*, shop_id: str, tz: tzinfo, now: datetime, start: str | None = None,
                   end: str | None = None, by: str = "agent", intent: str | None = None,
                   limit: int = 20, known_intents: tuple[str, ...] = ()) -> ReportRequest:
    """Validate the parameters of a report; the window defaults to the last 7 days."""
    if not shop_id:
        raise BadRequest("shop: required")
    if by not in GROUPS:
        raise BadRequest(f"by: {by!r} is not one of {', '.join(GROUPS)}")
    if intent and known_intents and intent not in known_intents:
        raise BadRequest(f"intent: {intent!r} is not one of {', '.join(known_intents)}")
    if not 1 <= limit <= 1000:
        raise BadRequest(f"limit: {limit} is not between 1 and 1000")
    stop = parse_bound(end, tz, end=True, name="to") if end else now.astimezone(tz)
    begin = (parse_bound(start, tz, end=False, name="from") if start
             else stop - timedelta(days=DEFAULT_DAYS))
    if begin >= stop:
        raise BadRequest(f"from ({begin.isoformat()}) must be before to ({stop.isoformat()})")
    return ReportRequest(shop_id, begin.astimezone(tz), stop.astimezone(tz), by,
                         intent or None, limit)
