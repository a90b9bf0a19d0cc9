"""The event-time watermark rule (services.core.watermark, services.core.progress): a
timer due at D may fire only once the partition was read past D plus the grace."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiokafka import TopicPartition

from services.core.business_hours import BusinessCalendar
from services.core.loop_lag import LoopLag
from services.core.progress import PartitionProgress
from services.core.watermark import (
    UNKNOWN,
    WATERMARK_HEADER,
    UpstreamReadings,
    Watermark,
    caught_up_watermark,
    parse_stamp,
    record_watermark,
)
from services.roles.clock_state import to_us
from services.roles.clocks import business_due_times

GRACE = 5_000
T = 1_800_000_000_000  # an epoch ms "now"
TP = TopicPartition("kefu.role.presale", 0)


class FakeConsumer:
    """What the progress tracker reads of an aiokafka consumer."""

    def __init__(self, high: int | None, polled_ms: int | None) -> None:
        self.high, self.polled_ms = high, polled_ms

    def highwater(self, tp):
        return self.high

    def last_poll_timestamp(self, tp):
        return self.polled_ms


def test_an_unstamped_record_proves_its_event_time_less_the_grace() -> None:
    assert record_watermark(None, T - 60_000, T, GRACE) == T - 65_000


def test_a_record_from_a_fast_producer_clock_counts_as_read_now() -> None:
    an_hour_ahead = T + 3_600_000
    assert record_watermark(None, an_hour_ahead, T, GRACE) == T - GRACE


def test_a_stamped_record_proves_its_upstream_stamp_whatever_its_event_time() -> None:
    assert record_watermark(T - 30_000, T, T, GRACE) == T - 30_000
    assert record_watermark(UNKNOWN, T, T, GRACE) == UNKNOWN, "an upstream that knows nothing"


def test_being_caught_up_proves_the_poll_time_less_the_grace_or_the_upstream() -> None:
    assert caught_up_watermark(T, GRACE, None) == T - GRACE
    assert caught_up_watermark(T, GRACE, T - 60_000) == T - 60_000, "the router is behind"
    assert caught_up_watermark(T, GRACE, T) == T - GRACE


def test_the_stamp_header_is_read_and_a_bad_one_ignored() -> None:
    assert parse_stamp([("content-type", b"x"), (WATERMARK_HEADER, b"123")]) == 123
    assert parse_stamp([(WATERMARK_HEADER, b"soon")]) is None
    assert parse_stamp(None) is None


def test_a_watermark_only_moves_forward_and_allows_what_is_strictly_before_it() -> None:
    mark = Watermark()
    assert not mark.allows(0), "nothing known: nothing may fire"
    assert mark.advance(T) and not mark.advance(T - 1) and mark.value == T
    assert mark.allows(T - 1) and not mark.allows(T)


def test_out_of_order_events_within_a_partition_keep_the_highest_watermark() -> None:
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    later, earlier = record_watermark(None, T, T, GRACE), record_watermark(None, T - 3000, T, GRACE)
    progress.completed({TP: 2}, {TP: later})
    progress.completed({TP: 3}, {TP: earlier})
    assert progress.watermark(TP) == T - GRACE


def test_an_idle_partition_is_caught_up_and_moves_with_the_poll_time() -> None:
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    progress.caught_up(FakeConsumer(high=7, polled_ms=T), None)
    assert progress.watermark(TP) == UNKNOWN, "where reading starts is not known yet"
    progress.started_at(TP, 7)  # the committed offset: nothing new since
    progress.caught_up(FakeConsumer(high=7, polled_ms=T), None)
    assert progress.watermark(TP) == T - GRACE
    progress.caught_up(FakeConsumer(high=7, polled_ms=T + 1000), None)
    assert progress.watermark(TP) == T + 1000 - GRACE


def test_records_fetched_but_not_yet_stored_keep_a_partition_behind() -> None:
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    progress.started_at(TP, 0)
    progress.caught_up(FakeConsumer(high=500, polled_ms=T), None)  # a backlog of 500
    assert progress.watermark(TP) == UNKNOWN
    progress.completed({TP: 499}, {})
    progress.caught_up(FakeConsumer(high=500, polled_ms=T), None)
    assert progress.watermark(TP) == UNKNOWN
    progress.completed({TP: 500}, {})
    progress.caught_up(FakeConsumer(high=500, polled_ms=T), None)
    assert progress.watermark(TP) == T - GRACE


def test_a_fetch_response_read_after_a_pause_counts_from_before_the_pause() -> None:
    """SIGSTOP for 8 s: the broker's answer (no new records) waited in the socket and is
    stamped when read, after the pause; records produced meanwhile are not in it."""
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    progress.started_at(TP, 10)
    progress.caught_up(FakeConsumer(high=10, polled_ms=T + 8_000), None, lag_ms=8_000)
    assert progress.watermark(TP) == T - GRACE


def test_the_upstream_counts_only_as_read_before_the_fetch_that_showed_the_end() -> None:
    """The chaos soak's false warning: pre-sale/after-sale stopped for 10 s while a
    router failover published a late reply to its partition. After the resume, a fetch
    answer from before the pause (no reply in it) and a fresh read of the router's
    watermark (past the reply: the router had published it meanwhile) must not combine
    into a watermark past the reply."""
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    progress.started_at(TP, 10)
    readings = UpstreamReadings(request_ms=1_000)
    readings.add(T - 20_000, T - 30_000)  # read well before the fetch: the router was behind
    readings.add(T + 8_000, T + 2_000)    # read after the resume: the router caught up
    progress.caught_up(FakeConsumer(high=10, polled_ms=T + 8_000), readings.before,
                       lag_ms=8_000)
    assert progress.watermark(TP) == T - 30_000, "only what the router had done before"
    progress.caught_up(FakeConsumer(high=10, polled_ms=T + 9_500), readings.before)
    assert progress.watermark(TP) == T + 2_000, "a fetch requested after the read counts it"


def test_without_a_reading_old_enough_being_caught_up_proves_nothing() -> None:
    readings = UpstreamReadings(request_ms=1_000)
    assert readings.before(T) == UNKNOWN
    readings.add(T - 500, T - 10_000)
    assert readings.before(T) == UNKNOWN, "read while the fetch may already have been asked"
    readings.add(T - 400, None)
    assert readings.before(T + 600) is None, "no router: nothing to wait for"


def test_the_loop_lag_remembers_a_pause_for_its_window() -> None:
    lag = LoopLag(interval=0.05, window=2.0)
    lag.tick()
    assert lag.recent_ms() < 50
    lag._last_tick -= 8.05  # as if the process had been stopped for 8 s
    assert lag.recent_ms() >= 7_900, "a pause going on right now counts"
    lag.tick()
    assert lag.recent_ms() >= 7_900, "and is remembered after the next tick"


def test_a_reassigned_partition_starts_from_nothing_known() -> None:
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    progress.completed({TP: 10}, {TP: T})
    progress.revoked([TP])
    progress.assigned([TP])
    assert progress.watermark(TP) == UNKNOWN
    progress.caught_up(FakeConsumer(high=10, polled_ms=T), None)
    assert progress.watermark(TP) == UNKNOWN, "not read by this process yet"


def test_a_producer_clock_behind_the_service_makes_timers_late_never_early() -> None:
    # The producer's clock is 60 s slow: its events say 60 s earlier than they happened.
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([TP])
    slow = T - 60_000
    progress.completed({TP: 1}, {TP: record_watermark(None, slow, T, GRACE)})
    deadline_in_its_clock = slow + 8_000  # a buyer message "at" slow, an 8 s SLA
    assert not Watermark(progress.watermark(TP)).allows(deadline_in_its_clock)


def test_business_hours_that_end_between_the_deadline_and_the_watermark() -> None:
    """The deadline is fixed in business time when the clock starts; the watermark
    reaching it after closing time still fires it (the breach happened in hours), and
    the watermark before it does not."""
    sh = ZoneInfo("Asia/Shanghai")
    calendar = BusinessCalendar(sh, {d: [(480, 1320)] for d in range(7)})  # 08:00-22:00
    start = datetime(2026, 12, 7, 21, 57, tzinfo=sh)
    _, deadline_us, level3_us = business_due_times(
        calendar, to_us(start), timedelta(minutes=3), 0.8, 2.0)
    deadline_ms, level3_ms = deadline_us // 1000, level3_us // 1000
    closing = datetime(2026, 12, 7, 22, 0, tzinfo=sh)
    assert deadline_ms == round(closing.timestamp() * 1000)
    after_closing = Watermark(round((closing + timedelta(minutes=5)).timestamp() * 1000))
    assert after_closing.allows(deadline_ms)
    assert not after_closing.allows(level3_ms), "level 3 counts business time: the morning"
    assert not Watermark(deadline_ms).allows(deadline_ms)


def test_a_partition_the_router_feeds_waits_for_its_watermark_before_the_router_wrote_one() -> None:
    """First deployment: pre-sale runs before any router wrote its watermark, then a
    router starts on a backlog in kefu.inbound. Its first outputs carry a stamp (still
    UNKNOWN); being caught up on them must not prove the poll time, or the backlog's
    timers would fire before the router has published their replies."""
    fed, direct = TP, TopicPartition("kefu.role.presale", 1)
    progress = PartitionProgress(grace_ms=GRACE)
    progress.assigned([fed, direct])
    progress.completed({fed: 0, direct: 0}, {})
    readings = UpstreamReadings(request_ms=1_000)
    readings.add(T - 5_000, None)  # no router has written a watermark
    progress.caught_up(FakeConsumer(high=0, polled_ms=T), readings.before)
    assert progress.watermark(fed) == T - GRACE, "idle, and nothing says a router feeds it"
    progress.fed_by_upstream([fed])  # the router's first batch, stamped UNKNOWN
    assert progress.watermark(fed) == UNKNOWN, "its backlog may hold stops of those events"
    progress.completed({fed: 10, direct: 10}, {})
    progress.caught_up(FakeConsumer(high=10, polled_ms=T + 1_000), readings.before)
    assert progress.watermark(fed) == UNKNOWN, "it waits for the router's watermark"
    assert progress.watermark(direct) == T + 1_000 - GRACE, "producers write here directly"
    readings.add(T + 2_000, T - 60_000)  # the router wrote its first watermark
    progress.caught_up(FakeConsumer(high=10, polled_ms=T + 4_000), readings.before)
    assert progress.watermark(fed) == T - 60_000
    progress.fed_by_upstream([fed])
    assert progress.watermark(fed) == T - 60_000, "only the first stamped batch resets it"
