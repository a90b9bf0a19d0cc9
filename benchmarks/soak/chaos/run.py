"""A chaos run's parts around the soak: its stack (two replicas of each consuming
service), its policy (webhooks to the soak's own receiver), the fault runner, the
history of outputs, and the invariant results for the report."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.soak.chaos import invariants
from benchmarks.soak.chaos.faults import FaultRunner
from benchmarks.soak.chaos.history import ChaosHistory
from benchmarks.soak.chaos.plan import plan_faults
from benchmarks.soak.chaos.receiver import WebhookReceiver
from contracts import topics

REPLICATED = ("router", "presale", "aftersale", "notifier")
REPLICAS = 2
LEFT_OUT = ("analytics: its embedded chDB store is single-process; console and gateway "
            "consume nothing the invariants check: none of the three runs in a chaos stack")
SECRET_ENV = "KEFU_SOAK_WEBHOOK_SECRET"


def chaos_policy(webhook_url: str) -> str:
    """Business time around the clock (the SLA check needs it), no quiet hours, every
    notification by signed webhook to the soak's receiver (loopback http)."""
    return f"""shops:
  default:
    business_hours: {{mon-sun: [["00:00", "24:00"]]}}
    notify:
      quiet_hours: []
      channels: {{buyer: webhook, supervisor: webhook}}
      webhook: {{url: "{webhook_url}", allow_http: true, secret_env: {SECRET_ENV}}}
"""


def _kind(entry: dict[str, Any]) -> str:
    if "skipped" in entry:
        return f"{entry['fault']} (skipped)"
    return f"{entry['fault']} + kill" if "killed" in entry else entry["fault"]


class ChaosRun:
    topics = (topics.ASSIGNMENTS, topics.NOTIFICATIONS)
    """Watched by the soak's consumer on top of its own topics, for the history only."""

    def __init__(self, *, seed: int, seconds: float, receiver: WebhookReceiver,
                 marker: str) -> None:
        self.seed, self.seconds, self.receiver = seed, seconds, receiver
        self.history = ChaosHistory(marker)
        self.runner: FaultRunner | None = None
        self._task: asyncio.Task | None = None
        self.final: dict[str, Any] | None = None
        """The webhook figures as they were when the run ended (`freeze`)."""

    @staticmethod
    async def new_receiver() -> WebhookReceiver:
        receiver = WebhookReceiver(secrets.token_urlsafe(32))
        await receiver.start()
        return receiver

    def write_policy(self, data_dir: Path) -> Path:
        path = data_dir / "soak-chaos-policy.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(chaos_policy(self.receiver.url), encoding="utf-8")
        return path

    def stack_options(self) -> dict[str, Any]:
        """LocalStack arguments: the replicated services only, and the webhook secret."""
        return {"services": list(REPLICATED), "replicas": dict.fromkeys(REPLICATED, REPLICAS),
                "extra_env": {SECRET_ENV: self.receiver.secret}}

    def attach(self, stack, targets, extra_pids: dict[str, int]) -> None:
        replicas = [c.name for c in stack.children if c.service in REPLICATED]
        plan = plan_faults(self.seed, self.seconds, replicas)
        self.runner = FaultRunner(plan, stack, targets, extra_pids)

    def start(self, t0: float) -> None:
        self._task = asyncio.create_task(self.runner.run(t0))

    def stop(self) -> None:
        """No new faults; the one in progress is undone."""
        self.runner.stopping.set()

    def settled(self) -> bool:
        """No fault in progress, and the receiver got exactly the webhook notifications
        recorded on kefu.notifications (so far)."""
        return (self._task is not None and self._task.done()
                and set(self.receiver.deliveries) == self.history.webhook_ids)

    def freeze(self) -> None:
        """Keep the webhook notifications recorded and the receiver's counts as they are
        now, once: the run's end. Both keep moving while the stack stops (escalations due
        later are still alerted), and the soak's reader stops before the receiver, so
        comparing them later would count a delivery whose record was never read."""
        if self.final is None:
            r = self.receiver
            self.final = {"webhook_ids": set(self.history.webhook_ids),
                          "deliveries": Counter(r.deliveries), "acted": Counter(r.acted),
                          "rejected": r.rejected}

    async def finish(self) -> None:
        self.stop()
        if self._task is not None:
            await self._task

    def report(self, delivery: dict[str, Any], repeats, sla: dict[str, Any] | None
               ) -> dict[str, Any]:
        log = self.runner.log
        starts = [f["wall_start"] for f in log if "skipped" not in f]
        starts += [f["killed"]["wall"] for f in log if "killed" in f]
        self.freeze()
        final = self.final
        checks = {
            "every_input_routed_once": invariants.routed_once(delivery, repeats, starts),
            "output_ids_unique_or_explained": invariants.ids_unique_or_explained(
                self.history, starts),
            "true_breaches_once_no_false": invariants.breaches_true_and_once(sla),
            "webhooks_delivered_acted_once": invariants.webhooks_once(
                final["webhook_ids"], final["deliveries"], final["acted"], final["rejected"]),
        }
        return {"faults": log,
                "fault_counts": dict(Counter(_kind(f) for f in log)),
                "chaos": {"seed": self.seed, "replicas": dict.fromkeys(REPLICATED, REPLICAS),
                          "left_out": LEFT_OUT, "webhook": self.receiver.url},
                "invariants": checks}
