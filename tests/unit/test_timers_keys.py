"""Pure helpers of the timer engine: sharding, key layout, time conversion, backoff."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.core.timers import TimerKeys, shard_of, to_epoch_ms


def test_shard_is_a_stable_crc32() -> None:
    # Pinned: replicas (and versions) must agree on where a timer lives.
    assert shard_of("conv-1:first-response", 16) == zlib.crc32(b"conv-1:first-response") % 16
    assert [shard_of(f"t{i}", 16) for i in range(8)] == [
        zlib.crc32(f"t{i}".encode()) % 16 for i in range(8)
    ]


@given(st.text(min_size=1, max_size=80), st.integers(min_value=1, max_value=256))
def test_shard_in_range(timer_id: str, shards: int) -> None:
    assert 0 <= shard_of(timer_id, shards) < shards


def test_key_layout_shares_one_hash_tag_per_shard() -> None:
    keys = TimerKeys("presale", shards=16).shard(7)
    assert keys.due == "kefu:{timers:presale:7}:due"
    assert keys.inflight == "kefu:{timers:presale:7}:inflight"
    assert keys.data == "kefu:{timers:presale:7}:data"
    assert keys.owner == "kefu:{timers:presale:7}:owner"
    assert len(TimerKeys("presale", shards=16).all()) == 16


def test_a_key_tells_its_shard_and_the_scan_pattern_finds_only_its_namespace() -> None:
    from fnmatch import fnmatchcase

    layout = TimerKeys("presale", shards=16)
    keys = [layout.named("kefu.role.presale:3").inflight, layout.shard(7).fence]
    assert [layout.shard_name(key) for key in keys] == ["kefu.role.presale:3", "7"]
    assert all(fnmatchcase(key, layout.scan_pattern()) for key in keys)
    assert not fnmatchcase(TimerKeys("aftersale").shard(7).due, layout.scan_pattern())


@pytest.mark.parametrize("namespace", ["", "a{b", "a}b"])
def test_namespace_must_not_break_the_hash_tag(namespace: str) -> None:
    with pytest.raises(ValueError):
        TimerKeys(namespace)


def test_epoch_ms() -> None:
    t = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert to_epoch_ms(t) == round(t.timestamp() * 1000)
    assert to_epoch_ms(t.astimezone(timezone(timedelta(hours=8)))) == to_epoch_ms(t)
    assert to_epoch_ms(1_700_000_000.1234) == 1_700_000_000_123
    assert to_epoch_ms(1_700_000_000) == 1_700_000_000_000
    with pytest.raises(ValueError):
        to_epoch_ms(datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError):
        to_epoch_ms(float("nan"))
