from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.core.business_hours import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
ALL_WEEK = range(7)


def cal(intervals, days=ALL_WEEK, tz=SH, holidays=()) -> BusinessCalendar:
    return BusinessCalendar(tz, {d: intervals for d in days}, set(holidays))


def at(*args: int, tz=SH) -> datetime:
    return datetime(*args, tzinfo=tz)


DEFAULT = cal([(480, 1440)])  # 08:00-24:00 every day, the contract default
SPLIT = cal([(time(9), time(12)), (time(13, 30), time(22))])


def test_one_minute_before_midnight_plus_three_minutes() -> None:
    due = DEFAULT.add_business_time(at(2026, 11, 23, 23, 59), timedelta(minutes=3))
    assert due == at(2026, 11, 24, 8, 2)
    assert due.tzinfo is SH


def test_start_before_opening_counts_from_opening() -> None:
    assert DEFAULT.add_business_time(at(2026, 11, 23, 7), timedelta(minutes=3)) == at(
        2026, 11, 23, 8, 3
    )
    assert DEFAULT.business_time_between(at(2026, 11, 23, 7), at(2026, 11, 23, 8)) == timedelta(0)


def test_split_shift_skips_the_break() -> None:
    assert SPLIT.add_business_time(at(2026, 11, 23, 11, 58), timedelta(minutes=5)) == at(
        2026, 11, 23, 13, 33
    )
    assert SPLIT.add_business_time(at(2026, 11, 23, 12, 30), timedelta(minutes=1)) == at(
        2026, 11, 23, 13, 31
    )
    # a budget used up exactly at closing time is due at closing time, not next opening
    assert SPLIT.add_business_time(at(2026, 11, 23, 11, 57), timedelta(minutes=3)) == at(
        2026, 11, 23, 12
    )
    assert SPLIT.business_time_between(at(2026, 11, 23, 8), at(2026, 11, 24, 8)) == timedelta(
        hours=11, minutes=30
    )


def test_start_on_a_holiday_and_holiday_runs() -> None:
    golden_week = [date(2026, 10, d) for d in range(1, 8)]
    c = cal([(480, 1440)], holidays=golden_week)
    assert c.add_business_time(at(2026, 10, 1, 10), timedelta(minutes=3)) == at(2026, 10, 8, 8, 3)
    assert c.add_business_time(at(2026, 9, 30, 23, 59), timedelta(minutes=3)) == at(
        2026, 10, 8, 8, 2
    )
    assert not c.is_open(at(2026, 10, 3, 12))


def test_end_at_24_00_joins_next_day_start() -> None:
    c = cal([(0, 120), (1320, 1440)])  # 00:00-02:00 and 22:00-24:00
    assert c.add_business_time(at(2026, 11, 23, 23), timedelta(hours=2)) == at(2026, 11, 24, 1)
    c2 = cal([(time(22), time(0))])  # time(0) as an end means 24:00
    assert c2.weekly[0] == ((1320, 1440),)


def test_multi_day_duration() -> None:
    monday = at(2026, 11, 23, 8)
    # 48 business hours at 16 h/day run out at Wednesday 24:00
    assert DEFAULT.add_business_time(monday, timedelta(hours=48)) == at(2026, 11, 26, 0)
    weekdays = cal([(540, 1020)], days=range(5))  # Mon-Fri 09:00-17:00
    # 7 days of business time = 168 h = 21 working days (4 weeks + 1 day) after Friday 17:00
    due = weekdays.add_business_time(at(2026, 11, 27, 17), timedelta(days=7))
    assert due == at(2026, 12, 28, 17)
    assert weekdays.business_time_between(at(2026, 11, 27, 17), due) == timedelta(days=7)


def test_a_year_of_one_hour_days() -> None:
    one_hour_a_day = cal([(600, 660)])
    due = one_hour_a_day.add_business_time(at(2026, 1, 1, 12), timedelta(days=365))
    # 8760 one-hour days after 2026-01-01 (six leap days in between), at that day's 11:00
    assert due == at(2026, 1, 1, 11) + timedelta(days=8760) == at(2049, 12, 26, 11)
    assert one_hour_a_day.business_time_between(at(2026, 1, 1, 12), due) == timedelta(days=365)


def test_new_york_across_spring_forward() -> None:
    ny = ZoneInfo("America/New_York")
    weekdays = cal([(540, 1020)], days=range(5), tz=ny)
    friday = at(2026, 3, 6, 16, tz=ny)  # EST; clocks spring forward Sunday 2026-03-08
    due = weekdays.add_business_time(friday, timedelta(hours=2))
    assert due == at(2026, 3, 9, 10, tz=ny)
    assert due.utcoffset() == timedelta(hours=-4)
    assert weekdays.business_time_between(friday, due) == timedelta(hours=2)
    always = cal([(0, 1440)], tz=ny)  # always open: business time == real time
    saturday_noon = at(2026, 3, 7, 12, tz=ny)
    assert always.add_business_time(saturday_noon, timedelta(hours=24)) == at(2026, 3, 8, 13, tz=ny)


def test_shift_spanning_the_dst_change_counts_real_time() -> None:
    ny = ZoneInfo("America/New_York")
    night = cal([(60, 180)], tz=ny)  # 01:00-03:00 local
    spring = night.business_time_between(at(2026, 3, 8, tz=ny), at(2026, 3, 8, 12, tz=ny))
    assert spring == timedelta(hours=1)
    fall = cal([(60, 120)], tz=ny)  # 01:00-02:00 happens twice on 2026-11-01
    assert fall.business_time_between(at(2026, 11, 1, tz=ny), at(2026, 11, 1, 12, tz=ny)) == (
        timedelta(hours=2)
    )


def test_input_in_another_timezone_returns_shop_time() -> None:
    due = DEFAULT.add_business_time(
        datetime(2026, 11, 23, 15, 59, tzinfo=UTC), timedelta(minutes=3)
    )
    assert due == at(2026, 11, 24, 8, 2)
    assert due.tzinfo is SH


def test_zero_negative_and_reverse() -> None:
    start = at(2026, 11, 23, 7)
    assert DEFAULT.add_business_time(start, timedelta(0)) == start
    with pytest.raises(ValueError):
        DEFAULT.add_business_time(start, timedelta(seconds=-1))
    a, b = at(2026, 11, 23, 9), at(2026, 11, 23, 10)
    assert DEFAULT.business_time_between(b, a) == -timedelta(hours=1)


def test_naive_datetimes_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT.add_business_time(datetime(2026, 11, 23, 9), timedelta(minutes=3))
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT.business_time_between(datetime(2026, 11, 23, 9), at(2026, 11, 23, 9))


def test_is_open() -> None:
    assert SPLIT.is_open(at(2026, 11, 23, 9))
    assert not SPLIT.is_open(at(2026, 11, 23, 12))
    assert not SPLIT.is_open(at(2026, 11, 23, 23))


@pytest.mark.parametrize(
    "weekly",
    [
        {},
        {d: [] for d in range(7)},
        {0: [(600, 600)]},
        {0: [(600, 700), (650, 800)]},
        {0: [(0, 1441)]},
        {7: [(0, 60)]},
    ],
)
def test_invalid_calendars(weekly) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(SH, weekly, set())


def test_week_without_hours_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no business hours"):
        BusinessCalendar(SH, {0: [], 6: []}, set())


def test_many_holidays_on_the_only_open_weekday() -> None:
    mondays = [date(2026, 11, 23) + timedelta(weeks=w) for w in range(5)]
    c = cal([(540, 600)], days=[0], holidays=mondays)
    assert c.add_business_time(at(2026, 11, 20, 12), timedelta(hours=1)) == at(2026, 12, 28, 10)


def test_skipped_calendar_day() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 did not exist there
    always = cal([(0, 1440)], tz=apia)
    due = always.add_business_time(at(2011, 12, 29, 23, tz=apia), timedelta(hours=2))
    assert due == at(2011, 12, 31, 1, tz=apia)
