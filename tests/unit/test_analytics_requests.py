"""What a report or series may be asked for, and who may ask: mistakes are named."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.analytics.api.access import AccessError, Tokens
from services.analytics.report.request import BadRequest, report_request
from services.analytics.report.series import step_unit
from services.core.policy import INTENTS, parse_policy

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=SH)


def ask(**kwargs):
    return report_request(shop_id="s1", tz=SH, now=NOW, known_intents=INTENTS, **kwargs)


def test_dates_are_whole_local_days_and_times_are_instants():
    days = ask(start="2026-11-02", end="2026-11-08")
    assert (days.start, days.end) == (datetime(2026, 11, 2, tzinfo=SH),
                                      datetime(2026, 11, 9, tzinfo=SH))
    instants = ask(start="2026-11-02T01:00:00Z", end="2026-11-02T02:00:00+00:00")
    assert instants.end - instants.start == timedelta(hours=1)
    assert instants.start.utcoffset() == timedelta(hours=8), "reported in the shop's time"
    default = ask()
    assert (default.start, default.end) == (NOW - timedelta(days=7), NOW)


@pytest.mark.parametrize("kwargs, named", [
    ({"start": "2026-02-30"}, "from: '2026-02-30'"),
    ({"end": "yesterday"}, "to: 'yesterday'"),
    ({"start": "2026-11-02T10:00:00"}, "no UTC offset"),
    ({"start": "2026-11-09", "end": "2026-11-02"}, "must be before"),
    ({"by": "weather"}, "by: 'weather'"),
    ({"intent": "gossip"}, "intent: 'gossip'"),
    ({"limit": 0}, "limit: 0"),
])
def test_a_wrong_parameter_is_named(kwargs, named):
    with pytest.raises(BadRequest, match=named):
        ask(**kwargs)


@pytest.mark.parametrize("step, unit", [("15m", ("minute", 15)), ("1h", ("hour", 1)),
                                        ("6h", ("hour", 6)), ("1d", ("day", 1))])
def test_steps_align_with_the_shops_clock(step, unit):
    assert step_unit(step)[:2] == unit


@pytest.mark.parametrize("step", ["7m", "5h", "2d", "90s", "soon"])
def test_a_step_that_does_not_divide_a_day_is_refused(step):
    with pytest.raises(BadRequest, match="step"):
        step_unit(step)


def policy(shops: dict):
    return parse_policy({"shops": shops})


def test_a_shop_token_sees_its_shop_and_the_admin_token_every_shop():
    tokens = Tokens.load("admin", policy({"a": {"analytics": {"token_env": "TOK_A"}},
                                          "b": {"analytics": {"token_env": "TOK_B"}},
                                          "c": {"analytics": {"token_env": "TOK_C"}}}),
                         {"TOK_A": "ta", "TOK_B": "tb"})  # TOK_C unset: c has no token
    assert tokens.grant("ta").sees("a") and not tokens.grant("ta").sees("b")
    assert tokens.grant("admin").sees("c")
    assert tokens.grant("") is None and tokens.grant("tc") is None
    assert not Tokens.load(None, policy({}), {}).configured


def test_a_token_shared_by_shops_or_set_for_every_shop_stops_start_up():
    with pytest.raises(AccessError, match="default"):
        Tokens.load(None, policy({"default": {"analytics": {"token_env": "T"}}}), {"T": "x"})
    shared = policy({"a": {"analytics": {"token_env": "TA"}},
                     "b": {"analytics": {"token_env": "TB"}}})
    with pytest.raises(AccessError, match="also another one's"):
        Tokens.load(None, shared, {"TA": "same", "TB": "same"})
    with pytest.raises(AccessError):
        Tokens.load("same", shared, {"TA": "same"})
