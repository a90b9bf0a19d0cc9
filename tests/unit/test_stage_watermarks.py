"""The router's watermark as the role services read it from Redis (`lowest`): the lowest
of its partitions' watermarks, unknown while any partition has none, and nothing to
wait for when no router ever wrote one."""

from __future__ import annotations

from services.core.stage_watermarks import lowest
from services.core.watermark import UNKNOWN


def test_the_router_is_as_far_as_its_slowest_partition() -> None:
    assert lowest({b"partitions": b"3", b"0": b"1700", b"1": b"1500", b"2": b"1900"}) == 1500


def test_a_partition_no_router_has_written_holds_it_unknown() -> None:
    assert lowest({b"partitions": b"3", b"0": b"1700", b"2": b"1900"}) == UNKNOWN
    assert lowest({b"partitions": b"2", b"0": b"1700", b"5": b"1900"}) == UNKNOWN


def test_without_a_router_there_is_nothing_to_wait_for() -> None:
    assert lowest({}) is None


def test_fields_as_text_read_the_same() -> None:
    assert lowest({"partitions": "2", "0": "10", "1": "20"}) == 10
