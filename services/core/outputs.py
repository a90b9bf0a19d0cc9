"""What a handler returns: messages to publish, and effects to run once they are acked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from aiokafka import TopicPartition
from pydantic import BaseModel

AfterAck = Callable[[], Awaitable[None]]


class Outgoing(NamedTuple):
    """One message for one topic: `value` is the UTF-8 JSON body. A NamedTuple: as
    immutable as a frozen dataclass, a third of its construction cost (one per output)."""

    topic: str
    key: str
    value: bytes

    @classmethod
    def of(cls, topic: str, key: str, model: BaseModel | dict) -> Outgoing:
        data = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
        return cls(topic, key, orjson.dumps(data))


@dataclass(slots=True)
class BatchOutcome:
    """Outputs in the order they must be published (per key order is kept), plus callbacks
    that record the batch as done (dedup marks, timer acks) after the broker acked them,
    and what its records prove of each partition's event-time watermark (kept once the
    batch is committed; see services.core.watermark)."""

    outputs: list[Outgoing] = field(default_factory=list)
    after_ack: list[AfterAck] = field(default_factory=list)
    watermarks: dict[TopicPartition, int] = field(default_factory=dict)
    on_abandon: list[Callable[[], None]] = field(default_factory=list)
    """Called when the batch is abandoned uncommitted (shutdown, or fenced by a newer
    owner of its partitions): what the handler keeps of it in memory must go."""
