"""What a role batch reads of its records: the valid events with the timer shard of
their partition, one dead letter per invalid record, the count of each event type, and
the event-time watermark each partition's records prove (services/core/watermark.py)."""

from __future__ import annotations

from datetime import datetime

import orjson
from aiokafka import ConsumerRecord, TopicPartition

from contracts import example
from services.core.dlq import InputStage
from services.core.metrics import Metrics
from services.roles.intake import read_records

ROLE, ORDERS = "kefu.role.presale", "kefu.orders"
GRACE_MS = 5_000
READ_MS = round(datetime.fromisoformat("2026-11-23T10:10:00+08:00").timestamp() * 1000)


def ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def record(topic: str, partition: int, offset: int, body: dict | bytes,
           stamp: int | None = None) -> ConsumerRecord:
    value = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = [("kefu-watermark", str(stamp).encode())] if stamp is not None else []
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", value, None, 0,
                          len(value), headers)


def buyer_message(occurred: str) -> dict:
    return example("buyer.message", occurred_at=occurred)


def read(records: list[ConsumerRecord]):
    stage = InputStage(service="presale", metrics=Metrics("presale"), max_event_bytes=4096)
    return read_records(records, stage, read_ms=READ_MS, grace_ms=GRACE_MS)


def test_valid_events_keep_their_order_and_the_shard_of_their_partition() -> None:
    intake = read([
        record(ROLE, 2, 7, buyer_message("2026-11-23T10:00:00+08:00")),
        record(ORDERS, 1, 3, example("order.paid")),
        record(ROLE, 0, 9, example("agent.message")),
    ])
    assert [(e.event_type, shard) for e, shard in intake.events] == [
        ("buyer.message", "kefu.role.presale:2"), ("order.paid", "kefu.orders:1"),
        ("agent.message", "kefu.role.presale:0")]
    assert intake.counts == {(ROLE, "buyer.message"): 1, (ORDERS, "order.paid"): 1,
                             (ROLE, "agent.message"): 1}
    assert intake.letters == []


def test_each_invalid_record_is_one_dead_letter_and_the_rest_goes_on() -> None:
    intake = read([
        record(ROLE, 0, 1, b"{not json"),
        record(ORDERS, 0, 2, example("buyer.message")),  # not an order event type
        record(ROLE, 0, 3, buyer_message("2026-11-23T10:00:00+08:00")),
        record(ROLE, 0, 4, b"x" * 4097),
    ])
    reasons = [orjson.loads(letter.value)["reason"] for letter in intake.letters]
    assert reasons == ["invalid_json", "unknown_event_type", "oversize"]
    assert [shard for _, shard in intake.events] == ["kefu.role.presale:0"]
    assert intake.counts == {(ROLE, "buyer.message"): 1}


def test_a_partition_proves_its_latest_event_time_less_the_grace() -> None:
    intake = read([
        record(ROLE, 0, 1, buyer_message("2026-11-23T10:05:00+08:00")),
        record(ROLE, 0, 2, buyer_message("2026-11-23T10:01:00+08:00")),  # out of order
        record(ROLE, 1, 3, buyer_message("2026-11-23T10:02:00+08:00")),
    ])
    assert intake.watermarks == {
        TopicPartition(ROLE, 0): ms("2026-11-23T10:05:00+08:00") - GRACE_MS,
        TopicPartition(ROLE, 1): ms("2026-11-23T10:02:00+08:00") - GRACE_MS}


def test_an_event_time_ahead_of_the_reader_counts_as_the_read_time() -> None:
    intake = read([record(ROLE, 0, 1, buyer_message("2026-11-23T11:00:00+08:00"))])
    assert intake.watermarks == {TopicPartition(ROLE, 0): READ_MS - GRACE_MS}


def test_an_upstream_stamp_counts_even_on_a_record_that_is_dead_lettered() -> None:
    stamp = ms("2026-11-23T10:08:00+08:00")
    intake = read([record(ROLE, 0, 1, buyer_message("2026-11-23T10:00:00+08:00"), stamp),
                   record(ROLE, 1, 2, b"{not json", stamp + 1)])
    assert intake.watermarks == {TopicPartition(ROLE, 0): stamp,
                                 TopicPartition(ROLE, 1): stamp + 1}


def test_an_unstamped_invalid_record_proves_nothing() -> None:
    intake = read([record(ROLE, 0, 1, b"{not json")])
    assert intake.watermarks == {}


def test_partitions_with_a_stamped_record_are_known_as_fed_by_an_upstream() -> None:
    stamp = ms("2026-11-23T10:08:00+08:00")
    intake = read([record(ROLE, 0, 1, buyer_message("2026-11-23T10:00:00+08:00"), stamp),
                   record(ROLE, 1, 2, buyer_message("2026-11-23T10:00:00+08:00"))])
    assert intake.stamped == {TopicPartition(ROLE, 0)}
