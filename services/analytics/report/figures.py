"""Query rows -> report figures (pure). Milliseconds become seconds (3 decimals), and a
rate is a fraction with 4 decimals, or None when its denominator is 0."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from services.analytics.report.model import (
    Aftersale,
    AgentFigures,
    Conversion,
    DeadLetters,
    Group,
    HeatCell,
    ItemFigures,
    Pipe,
    ResponseTimes,
    Reviews,
    SlaOutcome,
)

Rows = list[dict[str, Any]]
RESPONSE_SLAS = ("first_response", "next_response")


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def seconds(ms: float | None) -> float | None:
    return None if ms is None else round(ms / 1000, 3)


def rounds_by_set(rows: Rows) -> dict[str, dict[str, dict[str, Any]]]:
    """The rounds query's rows per grouping set ("all", "sla", "agent", "group") and key."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        out[row["grouping_set"]][row["key"]] = row
    return out


def response_times(row: dict[str, Any] | None) -> ResponseTimes:
    row = row or {}
    return ResponseTimes(
        rounds=row.get("rounds", 0), answered=row.get("answered", 0),
        within_3m_rate=rate(row.get("within_3m", 0), row.get("decided", 0)),
        p50_s=seconds(row.get("p50_ms")), p90_s=seconds(row.get("p90_ms")),
        mean_s=seconds(row.get("mean_ms")))


def sla(by_kind: dict[str, dict[str, Any]], clocks: Rows) -> dict[str, SlaOutcome]:
    out = {}
    for kind in RESPONSE_SLAS:
        row = by_kind.get(kind)
        if row is not None:
            running = row["rounds"] - row["sla_met"] - row["sla_breached"]
            out[kind] = _outcome(row["sla_met"], row["sla_breached"], running)
    for row in clocks:
        out[row["sla"]] = _outcome(row["met"], row["breached"], row["running"])
    return dict(sorted(out.items()))


def _outcome(met: int, breached: int, running: int) -> SlaOutcome:
    return SlaOutcome(met=met, breached=breached, rate=rate(met, met + breached),
                      running=running)


def count_by(rows: Rows, key: str, value: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in rows:
        counts[str(row[key])] += row[value]
    return dict(sorted(counts.items()))


def agents(by_agent: dict[str, dict[str, Any]]) -> list[AgentFigures]:
    rows = sorted((r for key, r in by_agent.items() if key), key=lambda r: (-r["answered"],
                                                                            r["key"]))
    return [AgentFigures(agent_id=r["key"], rounds=r["answered"], p50_s=seconds(r["p50_ms"]),
                         p90_s=seconds(r["p90_ms"]), mean_s=seconds(r["mean_ms"]),
                         within_3m_rate=rate(r["within_3m"], r["decided"]))
            for r in rows]


def groups(by_key: dict[str, dict[str, Any]], by: str) -> list[Group]:
    rows = list(by_key.values())
    if by == "hour":
        rows.sort(key=lambda r: int(r["key"]))
    elif by == "day":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["rounds"], r["key"]))
    return [Group(key=r["key"], rounds=r["rounds"], answered=r["answered"],
                  within_3m_rate=rate(r["within_3m"], r["decided"]),
                  p50_s=seconds(r["p50_ms"]), p90_s=seconds(r["p90_ms"]),
                  mean_s=seconds(r["mean_ms"])) for r in rows]


def items(rows: Rows) -> list[ItemFigures]:
    return [ItemFigures(item_id=r["item_id"], title=r["title"] or None,
                        inquiries=r["inquiries"], aftersale_requests=r["aftersale_requests"],
                        negative_reviews=r["negative_reviews"]) for r in rows]


def conversion(rows: Rows, days: int) -> Conversion:
    row = rows[0] if rows else {"consulted": 0, "paid": 0}
    return Conversion(consulted=row["consulted"], paid=row["paid"],
                      rate=rate(row["paid"], row["consulted"]), window_days=days)


def dead_letters(rows: Rows) -> list[DeadLetters]:
    counts: Counter[tuple[str, str]] = Counter()
    for row in rows:
        counts[(row["service"], row["reason"])] += row["letters"]
    return [DeadLetters(service=s, reason=r, letters=n)
            for (s, r), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def pipe(routed: int, total: int, letters: list[DeadLetters]) -> Pipe:
    return Pipe(routed=routed, total=total, routed_rate=rate(routed, total),
                dead_letters=letters)


class Demand:
    """The demand query's rows: per intent, chat events and buyer messages (the intent
    mix); per weekday_hour (weekday * 100 + hour; 0 for the other chat events, and for
    buyer messages of other intents when the heatmap is filtered), the heatmap."""

    def __init__(self, rows: Rows) -> None:
        self.by_intent = [r for r in rows if r["grouping_set"] == "intent"]
        self.by_hour = [r for r in rows if r["grouping_set"] == "hour"]
        self.events = sum(r["events"] for r in self.by_hour)

    def intents(self) -> dict[str, int]:
        return dict(sorted((r["intent"], r["buyer_messages"]) for r in self.by_intent
                           if r["buyer_messages"]))

    def heatmap(self) -> list[HeatCell]:
        cells: Counter[tuple[int, int]] = Counter()
        for row in self.by_hour:
            if row["weekday_hour"]:
                cells[divmod(row["weekday_hour"], 100)] += row["events"]
        return [HeatCell(weekday=d, hour=h, messages=cells[(d, h)])
                for d in range(1, 8) for h in range(24)]


class CommerceMix:
    """The commerce query's rows: after-sale requests, reviews, routed events."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.events = sum(r["events"] for r in rows)

    def aftersale(self) -> Aftersale:
        requests = [r for r in self.rows if r["event_type"] == "aftersale.requested"]
        return Aftersale(requests=sum(r["events"] for r in requests),
                         by_kind=count_by(requests, "kind", "events"),
                         by_reason=count_by(requests, "reason", "events"))

    def reviews(self) -> Reviews:
        reviews = [r for r in self.rows if r["event_type"] == "review.posted"]
        count = sum(r["events"] for r in reviews)
        negative = sum(r["events"] for r in reviews if r["negative"])
        return Reviews(count=count, negative=negative, negative_rate=rate(negative, count))
