"""The gateway's answers: per-event results (202, or 422 when nothing was valid) and
refusals of a whole request (401, 413, 415, 429, 503), each with a machine code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.gateway.events import Outcome


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: int | None = None
    outcomes: tuple[Outcome, ...] = ()


def refused(status: int, error: str, detail: str, *, retry_after: int | None = None) -> Answer:
    return Answer(status, {"error": error, "detail": detail}, retry_after)


def results(outcomes: Iterable[Outcome]) -> Answer:
    """202 with every event's fate, in body order; 422 when every event was rejected."""
    ordered = tuple(sorted(outcomes, key=lambda outcome: outcome.index))
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    listed = []
    for outcome in ordered:
        counts[outcome.status] += 1
        item: dict[str, Any] = {
            "index": outcome.index, "event_id": outcome.event_id, "status": outcome.status,
        }
        if outcome.reason is not None:
            item["reason"] = outcome.reason
        if outcome.detail is not None:
            item["detail"] = outcome.detail
        listed.append(item)
    body = {
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "results": listed,
    }
    status = 422 if counts["rejected"] == len(ordered) else 202
    return Answer(status, body, outcomes=ordered)
