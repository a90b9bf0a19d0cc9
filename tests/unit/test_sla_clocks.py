"""Clock math (services.roles.clocks): warning, breach and level-3 instants in business
time (conversations) and calendar time (platform deadlines). The instants are written
out by hand from the calendars below; `NO` is a clock with no warning."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.core.business_hours import BusinessCalendar
from services.core.policy import parse_policy
from services.roles.clock_state import from_us, to_us
from services.roles.clocks import business_due_times, calendar_due_times

SH = ZoneInfo("Asia/Shanghai")
NO = None


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def business(calendar, start, budget, warn_at, level3_after, tz=SH):
    """(warning, deadline, level 3) as datetimes in `tz`; the warning None if none."""
    due = business_due_times(calendar, to_us(start), budget, warn_at, level3_after)
    return tuple(from_us(us, tz) if us else NO for us in due)


def calendar(start, deadline, warn_at, level3_after):
    return tuple(from_us(us, SH) if us else NO
                 for us in calendar_due_times(start, deadline, warn_at, level3_after))


DEFAULT = BusinessCalendar(SH, {d: [(480, 1440)] for d in range(7)})  # 08:00-24:00


def test_business_clock_inside_hours() -> None:
    due = business(DEFAULT, at(2026, 11, 23, 10), timedelta(minutes=3), 0.8, 2.0)
    assert due == (at(2026, 11, 23, 10, 2, 24), at(2026, 11, 23, 10, 3),
                   at(2026, 11, 23, 10, 6))


def test_message_at_2359_is_due_the_next_business_morning() -> None:
    due = business(DEFAULT, at(2026, 11, 23, 23, 59), timedelta(minutes=3), 0.8, 2.0)
    assert due == (at(2026, 11, 24, 8, 1, 24), at(2026, 11, 24, 8, 2), at(2026, 11, 24, 8, 5))


def test_warning_before_closing_breach_after_the_night() -> None:
    due = business(DEFAULT, at(2026, 11, 23, 23, 57), timedelta(minutes=5), 0.5, 2.0)
    assert due == (at(2026, 11, 23, 23, 59, 30), at(2026, 11, 24, 8, 2), at(2026, 11, 24, 8, 7))


def test_split_shift_and_holiday() -> None:
    split = BusinessCalendar(SH, {d: [(time(9), time(12)), (time(13, 30), time(22))]
                                  for d in range(7)}, {date(2026, 11, 24)})
    due = business(split, at(2026, 11, 23, 11, 59), timedelta(minutes=2), 0.5, 2.0)
    assert due == (at(2026, 11, 23, 12), at(2026, 11, 23, 13, 31), at(2026, 11, 23, 13, 33))
    # Monday 21:59 + 3 min: 1 min on Monday, Tuesday is a holiday, 2 min on Wednesday.
    due = business(split, at(2026, 11, 23, 21, 59), timedelta(minutes=3), 0.8, 2.0)
    assert due == (at(2026, 11, 25, 9, 1, 24), at(2026, 11, 25, 9, 2), at(2026, 11, 25, 9, 5))


def test_level3_after_is_a_share_of_the_budget() -> None:
    due = business(DEFAULT, at(2026, 11, 23, 10), timedelta(minutes=10), 0.5, 3.0)
    assert due == (at(2026, 11, 23, 10, 5), at(2026, 11, 23, 10, 10), at(2026, 11, 23, 10, 30))


def test_calendar_clock_ignores_business_hours() -> None:
    paid, promised = at(2026, 11, 22, 20), at(2026, 11, 24, 20)  # 48 h over two nights
    due = calendar(paid, promised, 0.8, 2.0)
    assert due == (at(2026, 11, 24, 10, 24), promised, at(2026, 11, 26, 20))


def test_calendar_deadline_in_the_past_breaches_at_once_without_warning() -> None:
    start = at(2026, 11, 22, 20)
    due = calendar(start, start - timedelta(hours=1), 0.8, 2.0)
    assert due == (NO, start - timedelta(hours=1), start - timedelta(hours=1))


def test_policy_calendar_from_the_file_drives_the_clock() -> None:
    policy = parse_policy({"shops": {"default": {
        "timezone": "Europe/Berlin",
        "business_hours": {"mon-sun": [], "mon-fri": [["09:00", "17:00"]]},
        "holidays": ["2026-12-25"]}}}).for_shop("any")
    berlin = ZoneInfo("Europe/Berlin")
    thursday_late = datetime(2026, 12, 24, 16, 59, tzinfo=berlin)
    _, deadline, _ = business(policy.calendar, thursday_late, timedelta(minutes=2),
                              policy.warn_at, policy.level3_after, berlin)
    assert deadline == datetime(2026, 12, 28, 9, 1, tzinfo=berlin)  # Fri is a holiday
