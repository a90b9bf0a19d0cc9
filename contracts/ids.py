"""Deterministic ids for derived messages (escalation_id, notification_id).

A consumer that is redelivered the same cause derives the same id, so the effect
(an escalation, a notice to a buyer) happens once however often it is recomputed.
"""

from __future__ import annotations

import uuid

KEFU_NAMESPACE = uuid.UUID("6f1d6a3e-5c2b-5d8e-9a47-3b0c7e2f9d14")
"""Fixed namespace of kefu ids. Never change it: every derived id would change."""


def derive_id(*parts: str) -> str:
    """A UUID (version 5, as text) determined by `parts` only.

    The same parts give the same id in every process and on every run; different
    parts give different ids. Pass everything that identifies the cause, e.g.
    `derive_id("escalation", shop_id, "conversation", conv_id, "first_response", "2", deadline)`.
    Parts are length-prefixed before hashing, so `("a:b", "c")` and `("a", "b:c")` differ.
    """
    if not parts:
        raise ValueError("derive_id needs at least one part")
    name = "".join(f"{len(part)}:{part}" for part in map(str, parts))
    return str(uuid.uuid5(KEFU_NAMESPACE, name))
