"""Capacity decisions of one batch, as the assignment script applies them (pure values).

Agents' capacity is shared by every replica, so a decision made on the batch's snapshot
of a shop's board is only a proposal: the store applies a shop's proposals in order, in
one atomic script, and each one is checked against the board as it is then. A proposal
that lost its agent to another replica comes back `full` and is decided again.

Every decision is stamped with its cause (the event or escalation that made it), so a
redelivered cause republishes what it decided instead of deciding again."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Assign:
    """Give `conv` to `target` ('' queues it). `expect` guards the conversation's state:
    'free' (no agent), 'queued' (still in the queue) or '=<agent>' (still held by them).
    `slot` is the position of its assignment message among the batch's outputs; the rest
    lets a `full` answer be decided again as it was decided first."""

    conv: str
    target: str
    cause: str
    reason: str
    expect: str
    score: int
    buyer: str
    slot: int
    exclude: frozenset[str] = frozenset()
    may_queue: bool = True
    forced_reason: str = ""
    previous: tuple[str, str] = ("", "")  # the conversation's agent and reason before
    pinned: bool = False  # this agent or none (a supervisor's choice): never decided again


@dataclass(slots=True)
class Release:
    """`conv` closed: give its agent's capacity back, leave the queue."""

    conv: str
    cause: str


@dataclass(slots=True)
class Presence:
    """An agent's status and capacity; not online hands their conversations back."""

    agent: str
    status: str
    max_concurrent: int
    cause: str


Reservation = Assign | Release | Presence


@dataclass(frozen=True, slots=True)
class Decided:
    """What the script did with an `Assign`: `ok`, `replay` (the cause decided already:
    this is its decision), `stale` (the expectation no longer held: nothing to publish)
    or `full` (the agent was offline or without capacity by then: decide again)."""

    status: str
    agent: str
    reason: str
    at: int


@dataclass(frozen=True, slots=True)
class HeldConversation:
    """A conversation an agent held when they went away or offline."""

    conv: str
    priority: str
    opened: int
    buyer: str


@dataclass(slots=True)
class ShopResult:
    """The script's answer for one shop: one entry per reservation, in order (`Decided`
    for an `Assign`, the freed agent for a `Release`, the conversations to hand back for
    a `Presence`), and the shop's board after them when something must be decided again
    (None otherwise)."""

    answers: list
    board: dict | None  # agent id -> AgentView
