"""Events of `kefu.orders`: the role's rules (pure) decide, the context remembers the
clocks and collects their timers, `raised` escalations go out at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts import ESCALATIONS
from services.core.outputs import Outgoing
from services.core.policy import ShopPolicy
from services.roles.context import RoleContext
from services.roles.escalation import escalation
from services.roles.rules import Rules, plan


class OrderFlow:
    def __init__(self, role: str, rules: Rules, policy_for: Callable[[str], ShopPolicy]) -> None:
        self.role, self.rules, self.policy_for = role, rules, policy_for

    def handle(self, event, ctx: RoleContext, now: datetime) -> list[Outgoing] | None:
        """The escalations to publish; None when the event is none of this role's business."""
        shop, policy = event.shop_id, self.policy_for(event.shop_id)

        def view(kind, subject_id, sla):
            return ctx.clock(shop, kind.value, subject_id, sla.value)

        commands = self.rules(event, view, policy)
        if not commands:
            return None
        result = plan(commands, shop=shop, role=self.role, policy=policy, trace_id=event.trace_id)
        for (kind, subject_id, sla), record in result.records.items():
            ctx.set_clock(shop, kind.value, subject_id, sla.value, record)
        for clock in result.started:
            ctx.start_timers(clock)
        for kind, subject_id, sla in result.stopped:
            ctx.stop_timers(shop, self.role, kind.value, subject_id, sla.value)
        fired_at = now.astimezone(policy.timezone)
        models = [escalation(due, fired_at) for due in result.raised]
        return [Outgoing.of(ESCALATIONS, m.kafka_key, m) for m in models]
