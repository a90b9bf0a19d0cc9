"""README, "Settings": `KEFU_DEDUP_WINDOW` is "an ISO 8601 duration or seconds". Any
whole number of seconds, given either way in the environment, is the same window."""

from __future__ import annotations

import os
from datetime import timedelta
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.settings import Settings


@settings(max_examples=50, deadline=None)
@given(seconds=st.integers(min_value=1, max_value=10 * 365 * 86400),
       form=st.sampled_from(["iso", "seconds"]))
def test_dedup_window_accepts_iso_8601_and_seconds(seconds: int, form: str) -> None:
    value = f"PT{seconds}S" if form == "iso" else str(seconds)
    with mock.patch.dict(os.environ, {"KEFU_DEDUP_WINDOW": value}):
        assert Settings().dedup_window == timedelta(seconds=seconds)
