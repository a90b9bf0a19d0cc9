"""The input stage every consuming service shares: too big, unparseable or refused by
the contract, a record becomes one dead letter with its reason and bytes; it is
counted and the batch goes on."""

from __future__ import annotations

import orjson
from aiokafka import ConsumerRecord

from contracts import example, parse_inbound
from services.core.dlq import InputStage
from services.core.metrics import Metrics


def record(value: bytes, offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord("kefu.orders", 1, offset, 0, 0, b"ord-1", value, None, 0,
                          len(value), [])


def stage(metrics: Metrics) -> InputStage:
    return InputStage(service="notifier", metrics=metrics, max_event_bytes=4096)


def test_each_kind_of_bad_record_is_one_letter_with_its_reason_and_the_rest_goes_on() -> None:
    metrics, letters = Metrics("notifier"), []
    good = orjson.dumps(example("order.shipped"))
    records = [record(b"x" * 4097, 0), record(b"{not json", 1), record(good, 2),
               record(orjson.dumps({**orjson.loads(good), "event_type": "order.teleported"}), 3)]
    read = [stage(metrics).read(r, parse_inbound, letters) for r in records]
    assert [item is not None for item in read] == [False, False, True, False]
    bodies = [orjson.loads(letter.value) for letter in letters]
    assert [b["reason"] for b in bodies] == ["oversize", "invalid_json", "unknown_event_type"]
    assert [b["offset"] for b in bodies] == [0, 1, 3]
    assert bodies[1]["raw"] == "{not json" and {b["service"] for b in bodies} == {"notifier"}


def test_a_batch_is_read_by_the_parser_of_each_records_topic_and_counted_by_kind() -> None:
    metrics = Metrics("notifier")
    good = orjson.dumps(example("order.shipped"))
    other = ConsumerRecord("kefu.elsewhere", 0, 7, 0, 0, None, good, None, 0, len(good), [])
    batch = stage(metrics).read_batch([record(good, 0), record(b"{", 1), other, record(good, 2)],
                                      {"kefu.orders": parse_inbound})
    assert [(r.offset, e.event_type) for r, e in batch.parsed] == [(0, "order.shipped"),
                                                                   (2, "order.shipped")]
    letters = [orjson.loads(letter.value) for letter in batch.letters]
    assert [(b["offset"], b["reason"]) for b in letters] == [(1, "invalid_json"),
                                                            (7, "processing_error")]
    assert letters[1]["detail"] == "notifier does not read kefu.elsewhere"
    batch.count(metrics, lambda event: event.event_type)
    counted = {(s.labels["topic"], s.labels["event_type"]): s.value
               for m in metrics.registry.collect() for s in m.samples
               if s.name == "kefu_events_in_total"}
    assert counted[("kefu.orders", "order.shipped")] == 2.0


def test_an_event_of_exactly_the_limit_is_read_and_one_byte_more_is_oversize() -> None:
    body = example("order.shipped")
    body["payload"]["note"] = ""
    pad = 4096 - len(orjson.dumps(body))
    body["payload"]["note"] = "x" * pad
    exact = orjson.dumps(body)
    assert len(exact) == 4096
    letters: list = []
    assert stage(Metrics("notifier")).read(record(exact), parse_inbound, letters) is not None
    assert letters == []
    assert stage(Metrics("notifier")).read(record(exact + b" "), parse_inbound, letters) is None
    assert [orjson.loads(letter.value)["reason"] for letter in letters] == ["oversize"]


def test_a_letter_fits_the_smallest_message_size_kefu_allows_whatever_the_record() -> None:
    """KEFU_KAFKA_MAX_MESSAGE_BYTES is at least 1 MiB: a letter of a 3 MiB record (read
    by a service without an input limit) keeps what fits and still goes out."""
    letters: list = []
    huge = record(b"\\" * (3 * 1024 * 1024))  # each byte doubles once escaped in JSON
    InputStage(service="analytics", metrics=Metrics("analytics"), max_event_bytes=None).read(
        huge, parse_inbound, letters)
    [letter] = letters
    assert len(letter.value) <= 1024 * 1024
    assert orjson.loads(letter.value)["reason"] == "invalid_json"

