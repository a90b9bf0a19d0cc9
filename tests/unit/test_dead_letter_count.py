"""`kefu_dlq_total` counts each dead letter once, by reason, when the broker has acked
it: not when a handler writes it (a batch whose publish fails and is retried writes its
letters again), and whichever path wrote it (the input stage, a poison record, the
notifier's failed delivery)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import ConsumerRecord

from contracts import parse_inbound
from contracts.topics import DLQ
from services.core.dlq import InputStage, dead_letter
from services.core.outputs import Outgoing
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings


def dlq_counts(runtime: ServiceRuntime) -> dict[str, float]:
    return {s.labels["reason"]: s.value for m in runtime.metrics.registry.collect()
            if m.name == "kefu_dlq" for s in m.samples if s.name == "kefu_dlq_total"}


def record(value: bytes, offset: int) -> ConsumerRecord:
    return ConsumerRecord("kefu.inbound", 0, offset, 0, 0, b"k", value, None, 0,
                          len(value), [])


@pytest.fixture
def runtime() -> ServiceRuntime:
    runtime = ServiceRuntime("router", Settings(), configure_logs=False)
    runtime.publisher(DLQ, description="dead letters")
    runtime.publisher("kefu.orders", description="orders")
    return runtime


def test_letters_count_by_reason_only_once_the_broker_acked_them(runtime) -> None:
    stage, letters = InputStage(service="router", metrics=runtime.metrics,
                                max_event_bytes=64), []
    for offset, raw in enumerate([b"{", b"x" * 65, b"[1"]):
        stage.read(record(raw, offset), parse_inbound, letters)
    poison = dead_letter(record(b"{}", 3), reason="processing_error", detail="boom",
                         service="router")
    outputs = [*letters, Outgoing("kefu.orders", "k", b"{}"), poison]
    assert dlq_counts(runtime) == {}, "nothing is counted before it is published"

    async def refuse(_outputs) -> None:
        raise ConnectionError("broker down")

    runtime.sink = refuse
    with pytest.raises(ConnectionError):
        asyncio.run(runtime.publish(outputs))
    assert dlq_counts(runtime) == {}, "a publish that failed counts nothing"

    published: list[Outgoing] = []

    async def accept(outs) -> None:
        published.extend(outs)

    runtime.sink = accept
    asyncio.run(runtime.publish(outputs))  # the retry
    assert [o.topic for o in published].count(DLQ) == 4
    assert dlq_counts(runtime) == {"invalid_json": 2.0, "oversize": 1.0,
                                   "processing_error": 1.0}
