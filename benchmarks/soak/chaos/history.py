"""What a chaos run saw, for the invariant checks: the derived ids of escalations,
assignments and notifications with the cause each names, their repeats with times, and
the notification ids the soak can derive from causes it knows (its own order events,
the escalations it saw)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from typing import Any

from benchmarks.soak.accounting import Repeat
from contracts import topics

NOTICE_OF = {"order.shipped": "shipped", "order.delayed": "delay_notice"}
"""Order events whose buyer notice is named by the event (logistics scans: by status)."""


class DerivedIds:
    """Ids of one kind of output as seen: the first cause each named, the ids of each
    cause, repeats (with times) and clashes (one id naming two causes)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.first: dict[str, tuple[Hashable, float]] = {}
        self.ids_of: dict[Hashable, set[str]] = defaultdict(set)
        self.repeats: list[Repeat] = []
        self.clashes: list[str] = []

    def observe(self, output_id: str, cause: Hashable, at: float) -> None:
        seen = self.first.get(output_id)
        if seen is None:
            self.first[output_id] = (cause, at)
            self.ids_of[cause].add(output_id)
            return
        self.repeats.append(Repeat(output_id, self.topic, seen[1], self.topic, at))
        if seen[0] != cause:
            self.clashes.append(output_id)

    def split_causes(self) -> dict[Hashable, list[str]]:
        """Causes that got more than one id."""
        return {c: sorted(ids) for c, ids in self.ids_of.items() if len(ids) > 1}


class ChaosHistory:
    def __init__(self, marker: str) -> None:
        """`marker`: `-<run id>-`, in every subject id of the run's traffic."""
        self.marker = marker
        self.escalations = DerivedIds(topics.ESCALATIONS)
        self.assignments = DerivedIds(topics.ASSIGNMENTS)
        self.notifications = DerivedIds(topics.NOTIFICATIONS)
        self.raised: set[str] = set()  # escalation ids of `raised`: repeat by design
        self.webhook_ids: set[str] = set()  # notifications recorded for a webhook
        self.derivable: set[str] = set()  # notification ids of causes the soak knows

    def sent(self, event: dict[str, Any]) -> None:
        from services.notifier.decide import notification_id

        kind = NOTICE_OF.get(event["event_type"])
        if event["event_type"] == "logistics.update":
            kind = ("delivered" if event["payload"].get("status") == "delivered"
                    else "logistics_update")
        if kind is not None:
            self.derivable.add(notification_id(event["shop_id"], event["event_id"], kind,
                                               "buyer"))

    def output(self, topic: str, body: dict[str, Any], at: float) -> None:
        if topic == topics.ESCALATIONS:
            self._escalation(body, at)
        elif topic == topics.ASSIGNMENTS and self.marker in str(body.get("conversation_id")):
            # No cause on the wire (`at` is the deciding batch's time, shared by every
            # decision of the batch): an assignment is its own id; only repeats count.
            decision = repr(tuple(body[k] for k in ("conversation_id", "role", "at",
                                                    "agent_id", "reason")))
            self.assignments.observe(decision, decision, at)
        elif topic == topics.NOTIFICATIONS:  # alerts on cases/reviews name no run id
            nid = body["notification_id"]
            cause = (body["kind"], body["audience"], body.get("order_id"),
                     body.get("conversation_id"))
            self.notifications.observe(nid, cause, at)
            if body.get("channel") == "webhook":
                self.webhook_ids.add(nid)

    def _escalation(self, body: dict[str, Any], at: float) -> None:
        from contracts import Escalation
        from services.notifier.decide import drafts_for_escalation

        subject = body.get("subject") or {}
        if self.marker not in str(subject.get("id")):
            return
        eid = body["escalation_id"]
        cause = (body["role"], subject["kind"], subject["id"], body["sla"], body["deadline"],
                 body["state"], body["level"])
        if body["state"] == "raised":  # no deadline: its cause is not on the wire
            self.raised.add(eid)
            cause = ("raised", eid)
        self.escalations.observe(eid, cause, at)
        self.derivable.update(d.notification_id
                              for d in drafts_for_escalation(Escalation.model_validate(body)))
