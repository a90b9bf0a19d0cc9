"""The delivery worker against a hand-written fake outbox: per-shop lanes (a stuck shop
does not hold up another), ack only after sending, bounded backlog per shop, hand-back
at shutdown, and a notification that cannot be sent is dead-lettered, not retried forever.

Nothing here sleeps to synchronise: the fake outbox and the fake sends signal every
change, and the tests wait on conditions (bounded only to fail rather than hang)."""

from __future__ import annotations

import asyncio
import itertools

import orjson

from services.core.policy import parse_policy
from services.core.settings import Settings
from services.core.timers import ClaimBatch, ClaimedTimer
from services.notifier.dispatcher import Dispatcher
from services.notifier.lanes import Limits, lanes_by_policy

GIVE_UP = 20.0  # seconds: only a broken worker waits this long, and then the test fails


class FakeOutbox:
    """Due entries in order of their due time on a clock that moves only when the test
    says; entries handed back wait their delay on that clock."""

    def __init__(self) -> None:
        self.clock = 0.0
        self.due: dict[str, tuple[float, int, bytes]] = {}
        self.acked: list[str] = []
        self.handed_back: list[str] = []
        self.extended: list[str] = []
        self.changed = asyncio.Event()
        self._order = itertools.count()

    def put(self, timer_id: str, shop: str, **fields) -> None:
        body = {"shop_id": shop, "id": timer_id, **fields}
        self.due[timer_id] = (self.clock, next(self._order), orjson.dumps(body))
        self.changed.set()

    def advance(self, seconds: float) -> None:
        self.clock += seconds
        self.changed.set()

    async def claim(self, owner: str, *, limit: int, lease: float) -> ClaimBatch:
        ready = sorted((entry[:2], i) for i, entry in self.due.items() if entry[0] <= self.clock)
        ids = [i for _, i in ready[:limit]]
        timers = [ClaimedTimer(i, self.due[i][0], self.due.pop(i)[2], f"{owner}:t") for i in ids]
        later = [due for due, _, _ in self.due.values() if due > self.clock]
        self.changed.set()
        return ClaimBatch(timers=timers, more=len(ready) > limit,
                          next_due_at=min(later) if later else None)

    async def ack(self, done) -> int:
        self.acked += [t.timer_id for t in done]
        self.changed.set()
        return len(done)

    async def extend(self, held, *, lease: float) -> int:
        self.extended += [t.timer_id for t in held]
        self.changed.set()
        return len(held)

    async def release_expired(self) -> int:
        return 0

    async def put_back(self, entries, *, delay: float = 0.0) -> None:
        for t in entries:
            self.handed_back.append(t.timer_id)
            self.due[t.timer_id] = (self.clock + delay, next(self._order), t.payload)
        self.changed.set()

    async def hasten(self, timer_ids) -> None:
        for i in timer_ids:
            if i in self.due:  # only what still waits; never later than it was due
                due, order, payload = self.due[i]
                self.due[i] = (min(due, self.clock), order, payload)
        self.changed.set()

    def now(self) -> float:
        return self.clock


async def until(outbox: FakeOutbox, predicate) -> None:
    """Wait until `predicate()` holds, re-checking whenever the outbox changed."""
    async with asyncio.timeout(GIVE_UP):
        while not predicate():
            outbox.changed.clear()
            await outbox.changed.wait()


def worker(outbox, send, on_error=None, **kwargs):
    async def no_error(payload, exc):
        raise AssertionError(f"unexpected {exc!r}")

    stopping = asyncio.Event()
    dispatcher = Dispatcher(outbox, send, on_error=on_error or no_error, stopping=stopping,
                            wake=asyncio.Event(), owner="w1", poll=0.01, **kwargs)
    return dispatcher, stopping


async def stop(task: asyncio.Task, stopping: asyncio.Event) -> None:
    stopping.set()
    async with asyncio.timeout(GIVE_UP):
        await task


async def test_a_stuck_shop_does_not_hold_up_another_and_is_acked_only_when_done():
    outbox, release, sent = FakeOutbox(), asyncio.Event(), []

    async def send(payload: bytes) -> None:
        body = orjson.loads(payload)
        if body["shop_id"] == "stuck":
            await release.wait()
        sent.append(body["id"])

    for i in range(3):
        outbox.put(f"stuck-{i}", "stuck")
    outbox.put("live-0", "live")
    dispatcher, stopping = worker(outbox, send, per_shop=1)
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: "live-0" in outbox.acked)
    assert sent == ["live-0"] and not any(i.startswith("stuck") for i in outbox.acked)
    outbox.put("live-1", "live")
    await until(outbox, lambda: "live-1" in outbox.acked)
    release.set()
    await until(outbox, lambda: len(outbox.acked) == 5)
    await stop(task, stopping)
    assert outbox.handed_back == []


async def test_a_shops_backlog_beyond_its_queue_goes_back_to_the_outbox():
    outbox, release = FakeOutbox(), asyncio.Event()

    async def send(payload: bytes) -> None:
        await release.wait()

    for i in range(5):
        outbox.put(f"a-{i}", "a")
    dispatcher, stopping = worker(outbox, send, per_shop=1, queue_per_shop=2, drain=0.1)
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: len(outbox.handed_back) >= 3)
    assert len(dispatcher.held) == 2
    await stop(task, stopping)
    assert outbox.acked == [], "nothing unsent is acked"
    assert {"a-0", "a-1"} <= set(outbox.handed_back), "unfinished work is handed back at stop"


async def test_an_unsendable_notification_is_dead_lettered_and_acked():
    outbox, errors = FakeOutbox(), []

    async def send(payload: bytes) -> None:
        raise ValueError("corrupt payload")

    async def on_error(payload: bytes, exc: Exception) -> None:
        errors.append((orjson.loads(payload)["id"], str(exc)))

    outbox.put("bad-1", "s")
    dispatcher, stopping = worker(outbox, send, on_error=on_error)
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: outbox.acked == ["bad-1"])
    await stop(task, stopping)
    assert errors == [("bad-1", "corrupt payload")]


async def test_eight_hanging_shops_leave_room_for_other_shops_and_supervisor_alerts():
    """Eight shops whose receivers never answer, each with a backlog bigger than its
    queue: every other shop's notices and every supervisor alert are still delivered."""
    outbox, hung, delivered = FakeOutbox(), asyncio.Event(), []

    async def send(payload: bytes) -> None:
        body = orjson.loads(payload)
        if body["shop_id"].startswith("hanging"):
            await hung.wait()  # never set: these receivers are dead
        delivered.append(body["id"])

    for shop in range(8):
        for i in range(40):
            outbox.put(f"hanging-{shop}-{i}", f"hanging-{shop}")
    dispatcher, stopping = worker(outbox, send, drain=0.1)  # dead receivers never answer
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: not any(due <= outbox.clock for due, _, _ in outbox.due.values()))
    outbox.put("notice-1", "healthy")
    outbox.put("alert-1", "healthy-2", audience="supervisor")
    await until(outbox, lambda: {"notice-1", "alert-1"} <= set(outbox.acked))
    assert delivered == ["notice-1", "alert-1"] or delivered == ["alert-1", "notice-1"]
    await stop(task, stopping)


async def test_an_on_error_that_raises_releases_the_entry_and_keeps_the_failure():
    """The dead letter cannot be written either: the entry leaves the worker (its lease
    is no longer renewed) and goes back to the outbox to be tried again later."""
    outbox, attempts = FakeOutbox(), []

    async def send(payload: bytes) -> None:
        raise ValueError("corrupt payload")

    async def on_error(payload: bytes, exc: Exception) -> None:
        attempts.append(orjson.loads(payload)["id"])
        raise RuntimeError("the DLQ refuses the letter")

    outbox.put("bad-1", "s")
    dispatcher, stopping = worker(outbox, send, on_error=on_error)
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: "bad-1" in outbox.handed_back)
    assert dispatcher.held == {}, "released: its lease is no longer renewed"
    assert "bad-1" in outbox.due and outbox.due["bad-1"][0] > outbox.clock, "tried again later"
    assert outbox.acked == [], "the failure is not acked away"
    outbox.advance(3600)
    await until(outbox, lambda: len(attempts) == 2)
    await stop(task, stopping)


async def test_a_stop_lets_a_delivery_in_flight_finish_and_acks_it():
    """A graceful stop while a webhook is being answered: the delivery completes, the
    entry is acked, nothing is handed back to be sent a second time."""
    outbox, answering = FakeOutbox(), asyncio.Event()
    dispatcher = None

    async def send(payload: bytes) -> None:
        answering.set()
        await dispatcher.stopping.wait()
        await asyncio.sleep(0.05)  # the receiver's answer comes after the stop began

    outbox.put("n-1", "s")
    dispatcher, stopping = worker(outbox, send)
    task = asyncio.create_task(dispatcher.run())
    async with asyncio.timeout(GIVE_UP):
        await answering.wait()
    await stop(task, stopping)
    assert outbox.acked == ["n-1"] and outbox.handed_back == []


async def test_a_lower_queue_per_receiver_setting_caps_what_one_receiver_holds(monkeypatch):
    """An integrator's one webhook URL behind many shops: the worker holds no more for it
    than KEFU_NOTIFIER_QUEUE_PER_RECEIVER says; the rest goes back to the outbox."""
    monkeypatch.setenv("KEFU_NOTIFIER_QUEUE_PER_RECEIVER", "5")
    monkeypatch.setenv("KEFU_NOTIFIER_CONCURRENCY_PER_RECEIVER", "2")  # at most its queue
    limits = Limits.from_settings(Settings())
    policy = parse_policy({"shops": {"default": {"notify": {
        "channels": {"buyer": "webhook", "supervisor": "webhook"},
        "webhook": {"url": "https://saas.example.cn/kefu", "secret_env": "HOOK_SECRET"}}}}})
    outbox, hung = FakeOutbox(), asyncio.Event()

    async def send(payload: bytes) -> None:
        await hung.wait()  # the receiver never answers: what the worker holds stays held

    for shop in range(20):
        for i in range(3):
            outbox.put(f"{shop}-{i}", f"shop-{shop}", channel="webhook")
    dispatcher, stopping = worker(outbox, send, limits=limits, lane_of=lanes_by_policy(policy),
                                  drain=0.1)
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: not any(due <= outbox.clock for due, _, _ in outbox.due.values()))
    assert len(dispatcher.held) == 5
    assert len(outbox.handed_back) == 60 - 5
    await stop(task, stopping)


async def test_a_burst_beyond_a_shops_queue_is_delivered_without_waiting_out_the_hand_back():
    """One shop ships 40 orders at once. Its queue holds 4, so 36 go back to the outbox
    for a moment; each slot its deliveries free calls one back at once. On a clock that
    never moves (the hand-back delay never passes), every notice is still delivered,
    once each: a big shop's notices flow at the receiver's speed, not a few per second."""
    outbox, sent = FakeOutbox(), []

    async def send(payload: bytes) -> None:
        sent.append(orjson.loads(payload)["id"])

    ids = [f"big-{i}" for i in range(40)]
    for i in ids:
        outbox.put(i, "big")
    outbox.put("other-0", "other")
    held: list[int] = []
    dispatcher, stopping = worker(outbox, send, per_shop=2, queue_per_shop=4,
                                  on_held=held.append)
    task = asyncio.create_task(dispatcher.run())
    await until(outbox, lambda: len(outbox.acked) == len(ids) + 1)
    await stop(task, stopping)
    assert sorted(sent) == sorted([*ids, "other-0"]), "each notice delivered once"
    assert max(held) <= 4 + 1, "the big shop never held more than its queue"
    assert outbox.handed_back, "the rest of the burst waited in the outbox"
