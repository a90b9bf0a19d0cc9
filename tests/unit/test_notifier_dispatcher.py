"""The delivery worker against a hand-written fake outbox: per-shop lanes (a stuck shop
does not hold up another), ack only after sending, bounded backlog per shop, hand-back
at shutdown, and a notification that cannot be sent is dead-lettered, not retried forever."""

from __future__ import annotations

import asyncio
import time

import orjson

from services.core.timers import ClaimBatch, ClaimedTimer
from services.notifier.dispatcher import Dispatcher


class FakeOutbox:
    def __init__(self) -> None:
        self.due: dict[str, bytes] = {}
        self.acked: list[str] = []
        self.handed_back: list[str] = []

    def put(self, timer_id: str, shop: str) -> None:
        self.due[timer_id] = orjson.dumps({"shop_id": shop, "id": timer_id})

    async def claim(self, owner: str, *, limit: int, lease: float) -> ClaimBatch:
        ids = list(self.due)[:limit]
        timers = [ClaimedTimer(i, time.time(), self.due.pop(i), f"{owner}:t") for i in ids]
        return ClaimBatch(timers=timers, more=bool(self.due), next_due_at=None)

    async def ack(self, done) -> int:
        self.acked += [t.timer_id for t in done]
        return len(done)

    async def extend(self, held, *, lease: float) -> int:
        return len(held)

    async def release_expired(self) -> int:
        return 0

    async def put_back(self, entries, *, delay: float = 0.0) -> None:
        self.handed_back += [t.timer_id for t in entries]

    def now(self) -> float:
        return time.time()


async def until(predicate, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def worker(outbox, send, on_error=None, **kwargs):
    async def no_error(payload, exc):
        raise AssertionError(f"unexpected {exc!r}")

    stopping = asyncio.Event()
    dispatcher = Dispatcher(outbox, send, on_error=on_error or no_error, stopping=stopping,
                            wake=asyncio.Event(), owner="w1", poll=0.01, **kwargs)
    return dispatcher, stopping


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
    await until(lambda: "live-0" in outbox.acked)
    assert sent == ["live-0"] and not any(i.startswith("stuck") for i in outbox.acked)
    outbox.put("live-1", "live")
    await until(lambda: "live-1" in outbox.acked)
    release.set()
    await until(lambda: len(outbox.acked) == 5)
    stopping.set()
    await task
    assert outbox.handed_back == []


async def test_a_shops_backlog_beyond_its_queue_goes_back_to_the_outbox():
    outbox, release = FakeOutbox(), asyncio.Event()

    async def send(payload: bytes) -> None:
        await release.wait()

    for i in range(5):
        outbox.put(f"a-{i}", "a")
    dispatcher, stopping = worker(outbox, send, per_shop=1, queue_per_shop=2)
    task = asyncio.create_task(dispatcher.run())
    await until(lambda: len(outbox.handed_back) >= 3)
    assert len(dispatcher.held) == 2
    stopping.set()
    await task
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
    await until(lambda: outbox.acked == ["bad-1"])
    stopping.set()
    await task
    assert errors == [("bad-1", "corrupt payload")]
