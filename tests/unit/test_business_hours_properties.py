"""Round-trip properties of add_business_time / business_time_between (hypothesis)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.business_hours import BusinessCalendar, epoch_us

CALENDARS = [
    # contract default
    BusinessCalendar(ZoneInfo("Asia/Shanghai"), {d: [(480, 1440)] for d in range(7)}),
    # split shifts, closed Sunday, Chinese holidays
    BusinessCalendar(
        ZoneInfo("Asia/Shanghai"),
        {d: [(540, 720), (810, 1320)] for d in range(6)},
        {date(2026, 10, d) for d in range(1, 8)} | {date(2026, 2, 17)},
    ),
    # office hours in a DST zone, and a night shift crossing the DST change hours
    BusinessCalendar(ZoneInfo("America/New_York"), {d: [(540, 1020)] for d in range(5)}),
    BusinessCalendar(ZoneInfo("Europe/London"), {d: [(0, 180), (1380, 1440)] for d in range(7)}),
    BusinessCalendar(ZoneInfo("America/New_York"), {d: [(0, 1440)] for d in range(7)}),
]

instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, durations)
def test_between_inverts_add(cal: BusinessCalendar, start: datetime, budget: timedelta) -> None:
    due = cal.add_business_time(start, budget)
    assert due >= start
    assert due.tzinfo is cal.tz
    assert cal.business_time_between(start, due) == budget


@settings(max_examples=300, deadline=None)
@given(calendars, instants, instants)
def test_add_inverts_between_up_to_closed_time(
    cal: BusinessCalendar, a: datetime, b: datetime
) -> None:
    elapsed = cal.business_time_between(a, b)
    assert cal.business_time_between(b, a) == -elapsed
    if elapsed > timedelta(0):
        due = cal.add_business_time(a, elapsed)
        # the earliest instant with that much business time: b itself or the last closing
        assert due <= b
        assert cal.business_time_between(due, b) == timedelta(0)
        if cal.is_open(b - timedelta(microseconds=1)):  # b is inside opening hours
            assert due == b


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations, durations)
def test_additive_and_monotonic(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle = cal.add_business_time(start, first)
    if second > timedelta(0):
        assert cal.add_business_time(middle, second) == cal.add_business_time(start, first + second)
    if first <= second:
        assert middle <= cal.add_business_time(start, second)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, st.lists(durations, min_size=1, max_size=4))
def test_several_budgets_in_one_walk_equal_one_walk_each(
    cal: BusinessCalendar, start: datetime, budgets: list[timedelta]
) -> None:
    budgets.sort()
    assert cal.add_business_times(start, budgets) == [
        cal.add_business_time(start, b) for b in budgets]


short = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=4))


@settings(max_examples=500, deadline=None)
@given(calendars, instants, st.lists(short, min_size=1, max_size=3))
def test_short_budgets_in_one_walk_equal_one_walk_each(
    cal: BusinessCalendar, start: datetime, budgets: list[timedelta]
) -> None:
    """Most SLA budgets end within the opening interval they start in (minutes)."""
    budgets.sort()
    found = cal.add_business_times(start, budgets)
    assert found == [cal.add_business_time(start, b) for b in budgets]
    assert all(due.tzinfo is cal.tz for due in found)


US = timedelta(microseconds=1)
nearby = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2))


@settings(max_examples=400, deadline=None)
@given(calendars, instants, st.lists(nearby, min_size=1, max_size=8),
       st.lists(st.one_of(short, durations), min_size=1, max_size=3))
def test_budgets_in_microseconds_equal_the_datetime_walk(
    cal: BusinessCalendar, first: datetime, offsets: list[timedelta], budgets: list[timedelta]
) -> None:
    """Starts close together, as a stream's are: later ones are answered from the
    intervals earlier ones found, and must still equal the walk of the calendar."""
    budgets.sort()
    for offset in offsets:
        start = first + offset
        assert cal.add_business_us(epoch_us(start), [b // US for b in budgets]) == [
            epoch_us(due) for due in cal.add_business_times(start, budgets)]


@settings(max_examples=400, deadline=None)
@given(calendars, instants, st.lists(st.tuples(nearby, st.one_of(short, durations)),
                                     min_size=1, max_size=8))
def test_business_time_in_microseconds_equals_the_datetime_walk(
    cal: BusinessCalendar, first: datetime, pairs: list[tuple[timedelta, timedelta]]
) -> None:
    for offset, length in pairs:
        a, b = first + offset, first + offset + length
        expected = cal.business_time_between(a, b) // US
        assert cal.business_us_between(epoch_us(a), epoch_us(b)) == expected
        assert cal.business_us_between(epoch_us(b), epoch_us(a)) == -expected


def test_budgets_in_microseconds_are_refused_as_the_datetime_ones_are() -> None:
    """Out of order or negative: a ValueError, also when the start's interval is known."""
    cal = CALENDARS[0]
    start = epoch_us(datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert cal.add_business_us(start, [1, 2]) == [start + 1, start + 2]  # now remembered
    for budgets in ([2, 1], [-1, 2]):
        with pytest.raises(ValueError, match="ascending"):
            cal.add_business_us(start, budgets)
