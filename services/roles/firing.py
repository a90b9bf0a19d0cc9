"""What a due timer does: publish its escalation (and, for a breached first response,
reassign the conversation to another free agent), and return only after the broker acked
it all; the TimerRunner then acks the timers. A conversation clock that was stopped for
this cause meanwhile (an agent replied) fires nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from contracts import ASSIGNMENTS, ESCALATIONS, EscalationState, SlaKind, SubjectKind
from services.core.logging import get_logger
from services.core.outputs import Outgoing
from services.core.policy import ShopPolicy
from services.core.timers import ClaimedTimer
from services.roles import capacity
from services.roles.assigner import Assigner
from services.roles.escalation import Due, escalation
from services.roles.ledger import Ledger

log = get_logger("kefu.roles.timers")
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]


class TimerFire:
    def __init__(self, *, role: str, ledger: Ledger, publish: Publish,
                 policy_for: Callable[[str], ShopPolicy]) -> None:
        self.role, self.ledger, self.publish, self.policy_for = role, ledger, publish, policy_for

    async def __call__(self, timers: list[ClaimedTimer]) -> None:
        dues = []
        for timer in timers:
            try:
                dues.append(Due.decode(timer.payload))
            except (ValueError, TypeError):
                log.error("unreadable timer payload dropped", timer_id=timer.timer_id)
        now = datetime.now(UTC)
        assigner = Assigner(self.ledger, self.role, self.policy_for, now)
        convs: dict[str, list[str]] = {}
        for due in dues:
            if due.kind == SubjectKind.CONVERSATION:
                convs.setdefault(due.shop, []).append(due.subject_id)
        for shop, ids in convs.items():  # one round trip per shop
            await assigner.states(shop, ids)
        outputs: list[Outgoing] = []
        for due in dues:
            if due.kind == SubjectKind.CONVERSATION:
                if assigner.convs[(due.shop, due.subject_id)].stopped == due.cause:
                    continue
            model = escalation(due, now.astimezone(self.policy_for(due.shop).timezone))
            outputs.append(Outgoing.of(ESCALATIONS, model.kafka_key, model))
            if _breached_first_response(due):
                moved = await capacity.reassign_after_breach(
                    assigner, due.shop, due.subject_id, due.escalation_id, due.trace_id)
                outputs += [Outgoing.of(ASSIGNMENTS, a.kafka_key, a) for a in moved]
        await self.publish(outputs)
        if assigner.used_causes:
            pipe = self.ledger.redis.pipeline(transaction=False)
            for shop, cause in assigner.used_causes:
                pipe.delete(self.ledger.keys.cause(shop, cause))
            await pipe.execute()


def _breached_first_response(due: Due) -> bool:
    return (due.sla == SlaKind.FIRST_RESPONSE and due.state == EscalationState.BREACHED
            and due.level == 2)
