"""Admission to the delivery worker: however many shops or receivers are slow or dead,
a healthy receiver and a supervisor alert always find a slot."""

from __future__ import annotations

import orjson

from services.core.policy import parse_policy
from services.notifier.lanes import (
    LOG_RECEIVER,
    Admission,
    Lane,
    Limits,
    ReceiverHealth,
    lanes_by_policy,
)

LIMITS = Limits(max_held=64, queue_per_shop=8, queue_per_receiver=12, slow_share=0.25,
                alert_reserve=0.25)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fill(admission: Admission, lanes) -> int:
    """Hold every lane the admission admits; how many it held."""
    held = 0
    for lane in lanes:
        if admission.admits(lane):
            admission.hold(lane)
            held += 1
    return held


def test_one_receiver_shared_by_many_shops_holds_at_most_its_queue():
    admission = Admission(LIMITS, ReceiverHealth())
    shared = [Lane(f"shop-{i}", "https://saas.example:443") for i in range(20) for _ in range(3)]
    assert fill(admission, shared) == LIMITS.queue_per_receiver
    assert admission.admits(Lane("shop-0", "https://other.example:443")), "its shops' other hooks"
    assert admission.admits(Lane("healthy", "https://healthy.example:443"))


def test_one_shop_holds_at_most_its_queue_whatever_its_receivers():
    admission = Admission(LIMITS, ReceiverHealth())
    lanes = [Lane("busy", f"https://r{i}.example:443") for i in range(20)]
    assert fill(admission, lanes) == LIMITS.queue_per_shop
    assert admission.admits(Lane("other", "https://r0.example:443"))


def test_slow_receivers_together_hold_at_most_their_share():
    health = ReceiverHealth()
    admission = Admission(LIMITS, health)
    dead = [f"https://dead-{i}.example:443" for i in range(40)]
    for receiver in dead:
        health.end(receiver, health.begin(receiver), ok=False)
    assert fill(admission, [Lane(f"s-{r}", r) for r in dead for _ in range(4)]) == \
        LIMITS.slow_slots
    assert admission.admits(Lane("healthy", "https://healthy.example:443"))
    assert admission.admits(Lane("quiet", LOG_RECEIVER))


def test_buyer_notices_leave_room_for_supervisor_alerts():
    admission = Admission(LIMITS, ReceiverHealth())
    notices = [Lane(f"shop-{i}", f"https://r{i}.example:443") for i in range(16) for _ in range(8)]
    assert fill(admission, notices) == LIMITS.buyer_slots
    assert not admission.admits(Lane("fresh", "https://fresh.example:443"))
    assert admission.admits(Lane("fresh", "https://fresh.example:443", alert=True))


def test_releasing_frees_the_slot():
    admission = Admission(LIMITS, ReceiverHealth())
    lane = Lane("a", "https://a.example:443")
    fill(admission, [lane] * LIMITS.queue_per_shop)
    assert not admission.admits(lane)
    admission.release(lane)
    assert admission.admits(lane)


def test_a_receiver_is_slow_while_failing_or_while_an_answer_takes_too_long():
    clock = FakeClock()
    health = ReceiverHealth(slow_after=2.0, clock=clock)
    hook = "https://hook.example:443"
    token = health.begin(hook)
    clock.now = 1.0
    assert not health.is_slow(hook)
    clock.now = 2.5
    assert health.is_slow(hook), "no answer after slow_after"
    health.end(hook, token, ok=False)
    assert health.is_slow(hook), "its last attempt failed"
    health.end(hook, health.begin(hook), ok=None)
    assert health.is_slow(hook), "an abandoned attempt proves nothing"
    health.end(hook, health.begin(hook), ok=True)
    assert not health.is_slow(hook), "answered again"


def test_a_receiver_is_judged_by_its_oldest_unanswered_request():
    """Fresh requests to a receiver do not hide one that has hung for long."""
    clock = FakeClock()
    health = ReceiverHealth(slow_after=2.0, clock=clock)
    hook = "https://hook.example:443"
    clock.now = 100.0
    health.begin(hook)
    clock.now = 101.0
    assert not health.is_slow(hook)
    clock.now = 102.4
    fresh = health.begin(hook)
    assert health.is_slow(hook)
    health.end(hook, fresh, ok=True)
    assert health.is_slow(hook), "the first one still hangs"


def test_kefus_own_log_channel_is_never_held_back_as_slow():
    clock = FakeClock()
    health = ReceiverHealth(slow_after=2.0, clock=clock)
    health.begin(LOG_RECEIVER)
    clock.now = 60.0
    admission = Admission(Limits(max_held=64, queue_per_shop=64, queue_per_receiver=64,
                                 slow_share=0.05, alert_reserve=0.0), health)
    lanes = [Lane(f"shop-{n}", LOG_RECEIVER, alert=False) for n in range(20)]
    assert fill(admission, lanes) == 20, "not capped at the slow share (3)"


def test_the_worker_holds_at_most_max_held_in_all():
    admission = Admission(Limits(max_held=10), ReceiverHealth())
    lanes = [Lane(f"shop-{n}", f"https://hook-{n}.example:443", alert=True) for n in range(30)]
    assert fill(admission, lanes) == 10


def test_even_a_tiny_slow_share_lets_one_slow_notification_through():
    health = ReceiverHealth()
    health.end("https://slow.example:443", health.begin("https://slow.example:443"), ok=False)
    admission = Admission(Limits(max_held=10, slow_share=0.01), health)
    slow = [Lane("s1", "https://slow.example:443", alert=True) for _ in range(3)]
    assert fill(admission, slow) == 1


def test_a_notifications_lane_is_its_shop_its_receivers_origin_and_its_audience():
    policy = parse_policy({"shops": {
        "hooked": {"notify": {"channels": {"buyer": "webhook", "supervisor": "webhook"},
                              "webhook": {"url": "https://Hooks.Example.cn/kefu/a?t=1",
                                          "secret_env": "HOOK_SECRET"}}},
        "also-hooked": {"notify": {"channels": {"buyer": "webhook", "supervisor": "log"},
                                   "webhook": {"url": "https://hooks.example.cn:443/kefu/b",
                                               "secret_env": "HOOK_SECRET"}}}}})
    lane_of = lanes_by_policy(policy)

    def payload(shop: str, channel: str, audience: str) -> bytes:
        return orjson.dumps({"shop_id": shop, "channel": channel, "audience": audience})

    shared = "https://hooks.example.cn:443"
    assert lane_of(payload("hooked", "webhook", "buyer")) == Lane("hooked", shared)
    assert lane_of(payload("also-hooked", "webhook", "buyer")) == Lane("also-hooked", shared)
    assert lane_of(payload("also-hooked", "log", "supervisor")) == \
        Lane("also-hooked", LOG_RECEIVER, alert=True)
    assert lane_of(b"not json") == Lane("", LOG_RECEIVER)
