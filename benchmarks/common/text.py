"""How the benchmarks print figures."""

from __future__ import annotations

import statistics
import sys
from datetime import UTC, datetime


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def fmt_rate(value: float) -> str:
    return f"{value:,.0f} ev/s"


def fmt_rss(values: list[float | None]) -> str:
    return " + ".join("?" if v is None else f"{v:.0f} MB" for v in values)


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)
