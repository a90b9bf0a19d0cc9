"""Pausing service processes mid-run (`--pause presale:30@300`: SIGSTOP every presale
process 300 s into the run, SIGCONT 30 s later), as a deploy, a long GC or a stuck host
would."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any


@dataclass
class Pause:
    service: str
    seconds: float
    at: float
    stopped: list[int] = field(default_factory=list)
    done: bool = False


class Pauses:
    def __init__(self, specs: list[tuple[str, float, float]], targets) -> None:
        """`specs`: (service, seconds, at), as `python -m benchmarks.soak --pause` parses them."""
        self.pauses = [Pause(service, seconds, at) for service, seconds, at in specs]
        self.targets = targets
        self.log: list[dict[str, Any]] = []

    def step(self, elapsed: float) -> None:
        for p in self.pauses:
            if not p.stopped and not p.done and elapsed >= p.at:
                p.stopped = [t.pid for t in self.targets if t.name == p.service and t.pid]
                for pid in p.stopped:
                    os.kill(pid, signal.SIGSTOP)
                self.log.append({"service": p.service, "seconds": p.seconds, "at": elapsed,
                                 "pids": p.stopped})
            elif p.stopped and not p.done and elapsed >= p.at + p.seconds:
                self._resume(p)

    def resume_all(self) -> None:
        for p in self.pauses:
            if p.stopped and not p.done:
                self._resume(p)

    @staticmethod
    def _resume(p: Pause) -> None:
        for pid in p.stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        p.done = True


def grace_of(args) -> float:
    """The stack's KEFU_SLA_GRACE in seconds (the services inherit the environment)."""
    from services.core.settings import Settings

    return Settings().sla_grace / timedelta(seconds=1)
