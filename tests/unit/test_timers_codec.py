"""The blob format between the client and the Lua scripts, and the shard-head cache."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from contracts.base import LATEST
from services.core.timers.codec import pack_timer, unpack_claimed
from services.core.timers.heads import ShardHeads

LATEST_MS = int(LATEST.timestamp() * 1000)
timers = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=40),  # ids may hold ':' and non-ASCII
        # due times kefu can schedule: before 2200 (the contract's latest time) plus a
        # budget. A float of seconds keeps every millisecond up to ~2**43 ms (year 2248),
        # not up to 2**52.
        st.integers(min_value=0, max_value=2 * LATEST_MS),
        st.binary(max_size=200),
    ),
    max_size=20,
)


@given(timers)
def test_claimed_blob_round_trips(items: list[tuple[str, int, bytes]]) -> None:
    # CLAIM emits the same record layout that pack_timer produces.
    blob = b"".join(pack_timer(tid, due, payload) for tid, due, payload in items)

    claimed = unpack_claimed(blob, "tok")

    assert [(c.timer_id, round(c.due_at * 1000), c.payload) for c in claimed] == items
    assert all(c.token == "tok" for c in claimed)


def test_pack_timer_layout() -> None:
    assert pack_timer("a:b", 1700000000123, b"x:y") == b"3:3:1700000000123:a:bx:y"
    assert pack_timer("é", 5, b"") == b"2:0:5:\xc3\xa9"


def test_heads_skip_only_shards_known_not_due() -> None:
    heads = ShardHeads()
    assert heads.may_be_due(0, 1000)  # never looked at
    heads.seen(0, 2000)
    heads.seen(1, None)
    assert not heads.may_be_due(0, 1000) and heads.may_be_due(0, 2000)
    assert not heads.may_be_due(1, 10**15)  # empty when last seen
    heads.scheduled(1, 1500)
    heads.scheduled(0, 500)
    heads.scheduled(2, 1)  # unknown shard stays unknown (it is visited anyway)
    assert heads.may_be_due(1, 1500) and heads.may_be_due(0, 500)
    assert heads.earliest() == 500


def test_heads_sweep_interval() -> None:
    heads = ShardHeads()
    assert heads.sweep_due(None) and heads.sweep_due(0.1)
    heads.swept(time.monotonic())
    assert not heads.sweep_due(60) and heads.sweep_due(None) and heads.sweep_due(0)
