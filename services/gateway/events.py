"""A request body as events: split by media type, each event checked exactly as the
router checks what it reads from `kefu.inbound` (the contract parser, the size limit),
so an accepted event is never dead-lettered later and a rejected one gets the reason
it would have had on `kefu.dlq`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import InvalidEvent, event_key, parse_inbound_document
from contracts.codec import decode_object
from contracts.enums import DlqReason

JSON = "application/json"
NDJSON = "application/x-ndjson"
MEDIA_TYPES = (JSON, NDJSON)


class BodyError(Exception):
    """The body as a whole cannot be taken (413 too many events, 422 none at all)."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def media_type(content_type: str | None) -> str | None:
    """`application/json; charset=utf-8` -> `application/json`; None if not accepted."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    return media if media in MEDIA_TYPES else None


def split_events(body: bytes, media: str, max_batch: int) -> list[bytes]:
    """One event for `application/json`; one per non-blank line for NDJSON."""
    if media == JSON:
        return [body]
    lines = [line.rstrip(b"\r") for line in body.split(b"\n") if line.strip()]
    if not lines:
        raise BodyError(422, "no_events", "the body holds no event (one JSON object a line)")
    if len(lines) > max_batch:
        raise BodyError(413, "too_many_events",
                        f"{len(lines)} events is over the limit of {max_batch} a request")
    return lines


@dataclass(slots=True)
class Outcome:
    """What happened to the event at `index` (0-based, among the body's events)."""

    index: int
    event_id: str | None
    status: str  # accepted | duplicate | rejected
    reason: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class Candidate:
    """A valid event, to be claimed and written."""

    index: int
    shop_id: str
    event_id: str
    key: bytes
    raw: bytes


@dataclass
class CheckedBody:
    candidates: list[Candidate] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    """Events decided without Redis or the broker: rejected, or repeated in the body."""
    shops: set[str] = field(default_factory=set)
    """Every shop the body names, valid events or not (all must be covered)."""


def check_events(lines: list[bytes], max_event_bytes: int) -> CheckedBody:
    checked = CheckedBody()
    first_index: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(lines):
        try:
            if len(raw) > max_event_bytes:
                raise InvalidEvent(DlqReason.OVERSIZE,
                                   f"{len(raw)} bytes is over the limit of {max_event_bytes}")
            event, _ = parse_inbound_document(raw)
        except InvalidEvent as bad:
            shop_id, event_id = _named(raw) if bad.reason != DlqReason.OVERSIZE else (None, None)
            if shop_id is not None:
                checked.shops.add(shop_id)
            checked.outcomes.append(
                Outcome(index, event_id, "rejected", str(bad.reason), bad.detail[:2000])
            )
            continue
        shop_id, event_id = event.shop_id, event.event_id
        checked.shops.add(shop_id)
        first = first_index.setdefault((shop_id, event_id), index)
        if first != index:
            checked.outcomes.append(Outcome(index, event_id, "duplicate",
                                            detail=f"the same event as index {first}"))
            continue
        key = event_key(event).encode()
        checked.candidates.append(Candidate(index, shop_id, event_id, key, raw))
    return checked


def _named(raw: bytes) -> tuple[str | None, str | None]:
    """The shop and event id of an invalid event, where it names them as strings."""
    try:
        data: dict[str, Any] = decode_object(raw)
    except InvalidEvent:
        return None, None
    shop_id, event_id = data.get("shop_id"), data.get("event_id")
    return (shop_id if isinstance(shop_id, str) else None,
            event_id if isinstance(event_id, str) else None)
