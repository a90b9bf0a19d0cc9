"""The notifier's lane limits are settings (`KEFU_NOTIFIER_*`): today's values by
default, and a value that would leave the worker unable to deliver, or that could never
take effect, stops start-up naming the setting; nothing is clamped."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from unittest import mock

import pytest
from pydantic import ValidationError

from services.core.settings import Settings
from services.notifier.lanes import Limits


def environ(**env: str) -> AbstractContextManager:
    """These KEFU_NOTIFIER_* variables in the environment, where a service reads them."""
    return mock.patch.dict(os.environ, {f"KEFU_NOTIFIER_{k.upper()}": v for k, v in env.items()})


def settings_error(**env: str) -> str:
    with environ(**env), pytest.raises(ValidationError) as info:
        Settings()
    return str(info.value)


def test_the_defaults_are_todays_limits():
    assert Limits.from_settings(Settings()) == Limits()


def test_every_limit_is_read_from_its_setting():
    with environ(max_held="1000", queue_per_shop="20", queue_per_receiver="600",
                 concurrency_per_shop="5", concurrency_per_receiver="50", slow_share="0.1",
                 alert_reserve="0.05"):
        limits = Limits.from_settings(Settings())
    assert limits == Limits(max_held=1000, queue_per_shop=20, queue_per_receiver=600,
                            per_shop=5, per_receiver=50, slow_share=0.1, alert_reserve=0.05)


COUNTS = ["max_held", "queue_per_shop", "queue_per_receiver", "concurrency_per_shop",
          "concurrency_per_receiver"]


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many"])
def test_a_count_must_be_a_positive_integer(name, value):
    assert f"notifier_{name}" in settings_error(**{name: value})


@pytest.mark.parametrize("name", ["slow_share", "alert_reserve"])
@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.1", "nan", "a quarter"])
def test_a_share_must_be_between_0_and_1(name, value):
    assert f"notifier_{name}" in settings_error(**{name: value})


@pytest.mark.parametrize("queue", ["queue_per_shop", "queue_per_receiver"])
def test_a_queue_cannot_exceed_what_the_worker_holds(queue):
    message = settings_error(max_held="64", **{queue: "65"})
    assert f"KEFU_NOTIFIER_{queue.upper()} (65)" in message
    assert "KEFU_NOTIFIER_MAX_HELD (64)" in message


@pytest.mark.parametrize("who", ["shop", "receiver"])
def test_more_at_once_than_the_queue_holds_never_takes_effect(who):
    """A receiver that can take 50 requests at once gets 50 only if it may hold 50."""
    message = settings_error(**{f"concurrency_per_{who}": "50", f"queue_per_{who}": "32"})
    assert f"KEFU_NOTIFIER_CONCURRENCY_PER_{who.upper()} (50)" in message
    assert f"KEFU_NOTIFIER_QUEUE_PER_{who.upper()} (32)" in message


TINY = {"max_held": "3", "queue_per_shop": "3", "queue_per_receiver": "3",
        "concurrency_per_shop": "3", "concurrency_per_receiver": "3"}


def test_the_alert_reserve_must_keep_a_slot_for_supervisor_alerts():
    message = settings_error(**TINY, slow_share="0.5", alert_reserve="0.25")
    assert "KEFU_NOTIFIER_ALERT_RESERVE (0.25)" in message
    assert "KEFU_NOTIFIER_MAX_HELD (3)" in message


def test_the_slow_share_must_leave_slow_receivers_a_slot():
    """Else a receiver that failed once would never be tried again, never recover."""
    message = settings_error(**TINY, slow_share="0.2", alert_reserve="0.5")
    assert "KEFU_NOTIFIER_SLOW_SHARE (0.2)" in message
    assert "KEFU_NOTIFIER_MAX_HELD (3)" in message


def test_small_limits_that_still_deliver_are_accepted():
    with environ(**TINY, slow_share="0.34", alert_reserve="0.34"):
        limits = Limits.from_settings(Settings())
    assert (limits.max_held, limits.buyer_slots, limits.slow_slots) == (3, 2, 1)
