"""A report as `table` (for a terminal), `csv` (one row per group) or `json` (the API's
JSON), and a SQL result in the same three formats."""

from __future__ import annotations

from typing import Any

import orjson

from services.analytics.report.model import Report
from services.analytics.report.text import grid, to_csv
from services.analytics.store import QueryResult

FORMATS = ("table", "csv", "json")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ROUND_COLUMNS = ("rounds", "answered", "within_3m_rate", "p50_s", "p90_s", "mean_s")
ITEM_COLUMNS = ("item_id", "title", "inquiries", "aftersale_requests", "negative_reviews")


def report_json(report: Report) -> dict[str, Any]:
    return report.model_dump(mode="json", by_alias=True)


def group_rows(report: Report) -> tuple[list[str], list[list[Any]]]:
    if report.by == "item":
        return list(ITEM_COLUMNS), [[getattr(i, c) for c in ITEM_COLUMNS] for i in report.items]
    return [report.by, *ROUND_COLUMNS], [[g.key, *(getattr(g, c) for c in ROUND_COLUMNS)]
                                         for g in report.groups]


def render_report(report: Report, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2).decode() + "\n"
    headers, rows = group_rows(report)
    if fmt == "csv":
        return to_csv(headers, rows)
    return _table(report, headers, rows)


def render_sql(result: QueryResult, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(result.dicts(), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        return to_csv(result.columns, result.rows)
    return grid(result.columns, result.rows) + f"\n({len(result.rows)} rows)\n"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _table(report: Report, headers: list[str], rows: list[list[Any]]) -> str:
    tz = report.from_.tzinfo
    out = [f"{report.shop_id}  {report.from_:%Y-%m-%d %H:%M} .. {report.to:%Y-%m-%d %H:%M} "
           f"({tz})  as of {report.as_of.astimezone(tz):%Y-%m-%d %H:%M}", ""]
    times = [[name, t.rounds, t.answered, _pct(t.within_3m_rate), t.p50_s, t.p90_s, t.mean_s]
             for name, t in (("first response", report.first_response),
                             ("every round", report.replies))]
    out += ["Response times (business seconds)",
            grid(["", "rounds", "answered", "within 3 min", "p50 s", "p90 s", "mean s"], times,
                 "  "), ""]
    sla = [[k, v.met, v.breached, _pct(v.rate), v.running] for k, v in report.sla.items()]
    out += ["SLA attainment", grid(["sla", "met", "breached", "rate", "running"], sla, "  "), ""]
    states = "  ".join(f"{k} {v}" for k, v in report.escalations.items()) or "none"
    out += [f"Escalations    {states}   (near misses {report.near_misses})"]
    intents = sorted(report.intents.items(), key=lambda kv: -kv[1])
    out += ["Intents        " + ("  ".join(f"{k} {v}" for k, v in intents) or "none")]
    busiest = sorted((c for c in report.heatmap if c.messages), key=lambda c: -c.messages)[:5]
    label = f" ({report.heatmap_intent})" if report.heatmap_intent else ""
    out += [f"Busiest hours{label}  " + ("  ".join(
        f"{DAYS[c.weekday - 1]} {c.hour:02d}:00 {c.messages}" for c in busiest) or "none")]
    r, c, a = report.reviews, report.conversion, report.aftersale
    out += [f"Reviews        {r.count} ({r.negative} negative, {_pct(r.negative_rate)})",
            f"After-sale     {a.requests} requests " + "  ".join(
                f"{k} {v}" for k, v in a.by_kind.items()),
            f"Conversion     {c.consulted} consulted pre-sale, {c.paid} paid within "
            f"{c.window_days} days ({_pct(c.rate)})"]
    p = report.pipe
    letters = ", ".join(f"{d.service}/{d.reason} {d.letters}" for d in p.dead_letters)
    out += [f"Pipe           {p.routed} routed of {p.total} ({_pct(p.routed_rate)}); "
            f"dead letters: {letters or 'none'}", ""]
    if report.by != "item" and report.items:
        items = [[getattr(i, col) for col in ITEM_COLUMNS] for i in report.items]
        out += ["Products", grid(list(ITEM_COLUMNS), items, "  "), ""]
    rate_at = headers.index("within_3m_rate") if "within_3m_rate" in headers else None
    shown = [[row[0] if row[0] != "" else "(none)", *row[1:]] for row in rows]
    for row in shown if rate_at is not None else ():
        row[rate_at] = _pct(row[rate_at])
    out += [f"By {report.by}", grid(headers, shown, "  ") if shown else "  no rounds", ""]
    return "\n".join(out)
