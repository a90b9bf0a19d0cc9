"""Time series for charts (`GET /api/v1/series`): one metric per bucket of a step in
the shop's timezone, every bucket of the window present (0, or null for a percentile or
rate with nothing to measure)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from services.analytics.report.figures import rate, seconds
from services.analytics.report.request import BadRequest, ReportRequest
from services.analytics.store import Store
from services.analytics.store.sql_files import query
from services.core.durations import parse_duration

METRICS: dict[str, tuple[str, str]] = {
    "messages": ("series_messages", "messages"),
    "rounds": ("series_rounds", "rounds"),
    "first_response_p50": ("series_rounds", "first_response_p50_ms"),
    "first_response_p90": ("series_rounds", "first_response_p90_ms"),
    "reply_p50": ("series_rounds", "reply_p50_ms"),
    "reply_p90": ("series_rounds", "reply_p90_ms"),
    "within_3m_rate": ("series_rounds", "within_3m"),
    "escalations": ("series_escalations", "escalations"),
    "breaches": ("series_escalations", "breaches"),
}
"""metric -> (query, column); `_ms` columns are reported in seconds."""
MAX_POINTS = 5000


class Point(BaseModel):
    t: datetime
    value: int | float | None


class Series(BaseModel):
    shop_id: str
    metric: str
    step: str
    points: list[Point]


def step_unit(step: str) -> tuple[str, int, timedelta]:
    """`15m`, `1h`, `6h`, `1d` -> (unit, n, length); minutes divide an hour, hours a day."""
    try:
        length = parse_duration(step)
    except ValueError:
        raise BadRequest(f"step: {step!r} is not a duration like 15m, 1h or 1d") from None
    minutes = int(length.total_seconds() // 60)
    if length == timedelta(days=1):
        return "day", 1, length
    if minutes and length.total_seconds() % 3600 == 0 and 24 % (minutes // 60) == 0:
        return "hour", minutes // 60, length
    if minutes and length.total_seconds() % 60 == 0 and 60 % minutes == 0:
        return "minute", minutes, length
    raise BadRequest(f"step: {step!r} must be 1d, whole hours dividing a day (1h, 6h) or "
                     "minutes dividing an hour (15m)")


async def build_series(store: Store, request: ReportRequest, metric: str, step: str,
                       *, now: datetime | None = None) -> Series:
    if metric not in METRICS:
        raise BadRequest(f"metric: {metric!r} is not one of {', '.join(METRICS)}")
    unit, n, length = step_unit(step)
    if (request.end - request.start) / length > MAX_POINTS:
        raise BadRequest(f"step: {step} gives more than {MAX_POINTS} points; use a longer one")
    tz = request.start.tzinfo
    name, column = METRICS[metric]
    params = {**request.params((now or datetime.now(UTC)).astimezone(tz)), "unit": unit,
              "n": n, "tz": str(tz), "intent": request.intent or ""}
    result = await asyncio.to_thread(store.select, query(name), params)
    values = {row["t"]: _value(metric, column, row) for row in result.dicts()}
    points = []
    for start in _buckets(request, unit, n, length):
        key = start.strftime("%Y-%m-%d %H:%M:%S")
        default = None if metric.endswith(("_p50", "_p90", "_rate")) else 0
        points.append(Point(t=start, value=values.get(key, default)))
    return Series(shop_id=request.shop_id, metric=metric, step=step, points=points)


def _value(metric: str, column: str, row: dict) -> float | None:
    if metric == "within_3m_rate":
        return rate(row["within_3m"], row["decided"])
    if column.endswith("_ms"):
        return seconds(row[column])
    return row[column]


def _buckets(request: ReportRequest, unit: str, n: int, length: timedelta):
    """Bucket starts (shop-local) from the one holding `start` up to `end`."""
    tz = request.start.tzinfo
    local = request.start.astimezone(tz)
    if unit == "day":
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "hour":
        first = local.replace(hour=local.hour - local.hour % n, minute=0, second=0,
                              microsecond=0)
    else:
        first = local.replace(minute=local.minute - local.minute % n, second=0, microsecond=0)
    at = first
    while at < request.end:
        yield at
        at = (at.replace(tzinfo=None) + length).replace(tzinfo=tz)  # wall-clock steps
