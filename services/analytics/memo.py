"""What analytics remembers of a conversation or an order/case between batches, and how
it stays right under redelivery: each memo lists the last events it has applied, so a
redelivered event (a crash after the memo was saved, before the commit) is applied once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SEEN_KEPT = 32
"""Events remembered per memo: far more than one conversation sees between two commits."""


def event_digest(event_id: str) -> str:
    return hashlib.blake2b(event_id.encode(), digest_size=6).hexdigest()


@dataclass(slots=True)
class Seen:
    recent: list[str] = field(default_factory=list)

    def first_time(self, event_id: str) -> bool:
        """True (and remembered) unless the event was applied before."""
        mark = event_digest(event_id)
        if mark in self.recent:
            return False
        self.recent.append(mark)
        del self.recent[:-SEEN_KEPT]
        return True
