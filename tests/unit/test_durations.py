from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("3m", timedelta(minutes=3)),
        ("48h", timedelta(hours=48)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("1d2h3m4s5ms", timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)),
        ("0s", timedelta(0)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_valid(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "5", "-3m", "3x", "3M", " 3m", "3m ", "3 m", "1.5h", "30m1h", "1m1m", "m", "3mm",
     "+3m", "３m", "3m\n", "1h-30m", "99999999999999999d"],
)  # fmt: skip
def test_parse_invalid_names_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("value", [5, 3.0, None, True, timedelta(minutes=3), ["3m"]])
def test_parse_rejects_non_strings(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)  # type: ignore[arg-type]


def test_error_message_format() -> None:
    with pytest.raises(ValueError, match=r"^invalid duration '3x'$"):
        parse_duration("3x")


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=48), "2d"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(days=1, seconds=1, milliseconds=1), "1d1s1ms"),
        (timedelta(seconds=1, microseconds=999), "1s"),  # sub-millisecond dropped
    ],
)
def test_format(td: timedelta, text: str) -> None:
    assert format_duration(td) == text


def test_format_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(timedelta(seconds=-1))


@given(st.integers(min_value=0, max_value=10**12))
def test_round_trip(ms: int) -> None:
    td = timedelta(milliseconds=ms)
    assert parse_duration(format_duration(td)) == td
