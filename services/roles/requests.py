"""What a batch must read before it is decided (pure): every key it may touch, so the
store reads them all in one round trip."""

from __future__ import annotations

from collections.abc import Iterable

from contracts import EscalationState, EventType, SlaKind
from contracts.topics import ROLE_EVENT_TYPES, SUPERVISOR_EVENT_TYPES
from services.roles.escalation import TimerPayload, escalation_id
from services.roles.store import BoardRequest, LoadRequest

NEEDS_BOARD = frozenset({EventType.BUYER_MESSAGE, EventType.AGENT_STATUS,
                         EventType.CONVERSATION_CLOSED})


def request_for(role: str, events: Iterable, timers: Iterable[TimerPayload] = ()) -> LoadRequest:
    request = LoadRequest()
    for event in events:
        shop, payload = event.shop_id, event.payload
        request.seen.add((shop, event.event_id))
        if event.event_type in SUPERVISOR_EVENT_TYPES:
            _supervisor_request(request, event)
            continue
        if event.event_type in ROLE_EVENT_TYPES:
            if event.event_type != EventType.AGENT_STATUS:
                request.convs.add((shop, payload.conversation_id))
            if event.event_type in NEEDS_BOARD:
                board = request.boards.setdefault(shop, BoardRequest())
                board.causes.add(event.event_id)
                if event.event_type == EventType.BUYER_MESSAGE:
                    board.buyers.add(payload.buyer_id)
                elif event.event_type == EventType.AGENT_STATUS:
                    board.extra += payload.max_concurrent
                else:
                    board.extra += 1
            continue
        for kind in ("order", "case"):
            subject = getattr(payload, f"{kind}_id", None)
            if isinstance(subject, str):
                request.subjects.add((shop, kind, subject))
    for timer in timers:
        if timer.kind != "conversation":
            request.subjects.add((timer.shop, timer.kind, timer.subject_id))
            continue
        request.convs.add((timer.shop, timer.subject_id))
        if timer.index == 1:  # a first-response breach reassigns the conversation
            board = request.boards.setdefault(timer.shop, BoardRequest())
            board.causes.add(escalation_id(
                timer.shop, role, timer.kind, timer.subject_id, SlaKind.FIRST_RESPONSE.value,
                timer.cause, EscalationState.BREACHED.value, 2))
    return request


def _supervisor_request(request: LoadRequest, event) -> None:
    """An acknowledgement reads its subject's clocks; a reassignment its conversation and
    the board (the former agent's place may serve the queue)."""
    shop, payload = event.shop_id, event.payload
    if event.event_type == EventType.CONVERSATION_REASSIGNED:
        request.convs.add((shop, payload.conversation_id))
        board = request.boards.setdefault(shop, BoardRequest())
        board.causes.add(event.event_id)
        board.extra += 1
    elif payload.subject.kind == "conversation":
        request.convs.add((shop, payload.subject.id))
    else:
        request.subjects.add((shop, payload.subject.kind.value, payload.subject.id))
