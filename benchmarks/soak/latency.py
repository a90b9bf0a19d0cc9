"""Percentiles and latency summaries (pure)."""

from __future__ import annotations

import math


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) of sorted values, interpolated linearly between
    closest ranks (numpy's default); None for no values."""
    if not sorted_values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    pos = (len(sorted_values) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(values: list[float], scale: float = 1000.0) -> dict[str, float | int | None]:
    """n, p50, p95, p99, max and mean of `values` (seconds), times `scale` (ms)."""
    ordered = sorted(v * scale for v in values)
    if not ordered:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {"n": len(ordered), "p50": percentile(ordered, 50), "p95": percentile(ordered, 95),
            "p99": percentile(ordered, 99), "max": ordered[-1],
            "mean": sum(ordered) / len(ordered)}
