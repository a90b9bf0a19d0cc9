"""The store's time literals: the integer formatter writes what the datetime one does."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.timefmt import ch_time, ch_time_us
from services.core.business_hours import epoch_us

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))
instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30),
                        timezones=offsets)


@settings(max_examples=500, deadline=None)
@given(instants)
def test_microseconds_format_as_the_datetime(at: datetime) -> None:
    assert ch_time_us(epoch_us(at)) == ch_time(at)


def test_milliseconds_are_truncated_as_the_store_keeps_them() -> None:
    at = datetime(2026, 11, 22, 1, 30, 0, 999_999, tzinfo=UTC)
    assert ch_time_us(epoch_us(at)) == "2026-11-22 01:30:00.999"
    assert ch_time_us(0) == "1970-01-01 00:00:00.000"
