"""A big batch is read in parts, each part's reads sent to the store before the next
part is parsed (services/roles/reads.py), and the first half's capacity reservations
are sent before the second half is decided (services/roles/batches.py): the batch must
decide exactly what one read and one reservation round decide, ask for no key twice,
and leave no read behind when it fails."""

from __future__ import annotations

import asyncio
import gc
import random

import orjson
import pytest
from aiokafka import ConsumerRecord

from contracts import example
from services.core.metrics import Metrics
from services.presale.rules import presale_rules
from services.roles import batches as batches_module
from services.roles import handler as handler_module
from services.roles.batches import RoleBatches
from services.roles.decider import Decider
from services.roles.handler import RoleHandler
from services.roles.memory_store import MemoryRoleStore
from services.roles.reads import PARTS, part_size
from tests.support.loop_turns import LoopTurns
from tests.unit.role_harness import POLICY, T0, at

ROLE, ORDERS = "kefu.role.presale", "kefu.orders"
CONVERSATIONS = 400
FIRST = 450
"""Records of the day's first batch; the second (the rest) is read in parts."""


def record(topic: str, offset: int, body: dict) -> ConsumerRecord:
    value = orjson.dumps(body)
    return ConsumerRecord(topic, offset % 3, offset, 0, 0, b"k", value, None, 0, len(value),
                          [])


def body(kind: str, event_id: str, shop: str, seconds: float, **payload) -> dict:
    out = example(kind, event_id=event_id, shop_id=shop, occurred_at=at(seconds).isoformat())
    out["payload"] = payload
    return out


def busy_day(seed: int = 7) -> list[ConsumerRecord]:
    """Three shops' agents coming online, conversations whose turns are spread over the
    whole batch (so over every part), closes, a redelivered message and paid orders."""
    rng = random.Random(seed)
    bodies = [body("agent.status", f"st-{s}-{a}", f"shop{s}", 0, agent_id=f"a{s}-{a}",
                   roles=["presale"], status="online", max_concurrent=3)
              for s in range(3) for a in range(4)]
    turns = []
    for c in range(CONVERSATIONS):
        shop, conv, start = f"shop{c % 3}", f"c{c}", rng.uniform(1, 60)
        turns += [(start, "buyer.message", shop, conv, 0), (start + 5, "agent.message", shop,
                                                             conv, 1)]
        turns += [(start + 9, "buyer.message", shop, conv, 2)]
        if c % 4 == 0:
            turns.append((start + 12, "conversation.closed", shop, conv, 3))
    for seconds, kind, shop, conv, n in sorted(turns):
        payload = {"conversation_id": conv}
        if kind == "buyer.message":
            payload |= {"buyer_id": f"b-{conv}", "message_id": f"m-{conv}-{n}", "text": "在吗"}
        elif kind == "agent.message":
            payload |= {"agent_id": f"a{shop[-1]}-0", "message_id": f"m-{conv}-{n}",
                        "text": "在的"}
        bodies.append(body(kind, f"{conv}-{n}", shop, seconds, **payload))
    bodies.insert(len(bodies) - 3, bodies[20])  # redelivered in the last part
    records = [record(ROLE, i, b) for i, b in enumerate(bodies)]
    records += [record(ORDERS, len(records) + i, body(
        "order.paid", f"paid-{i}", f"shop{i % 3}", 30 + i, order_id=f"o{i}", buyer_id=f"b{i}",
        paid_at=at(30 + i).isoformat(), amount=9.9)) for i in range(40)]
    return records


class Recording(MemoryRoleStore):
    """The in-memory store, remembering what each read asked for."""

    def __init__(self, log: list | None = None) -> None:
        super().__init__()
        self.requests = []
        self.log = log if log is not None else []

    async def load(self, request):
        self.requests.append(request)
        self.log.append(("read", len(request.seen) + len(request.convs) + len(request.subjects)))
        return await super().load(request)

    async def reserve(self, reservations, now_ms):
        self.log.append(("reserve", sum(map(len, reservations.values()))))
        return await super().reserve(reservations, now_ms)


def handler(store: MemoryRoleStore) -> RoleHandler:
    batches = RoleBatches(role="presale", store=store, rules=presale_rules,
                          policy_for=POLICY.for_shop, now=lambda: T0)
    return RoleHandler(role="presale", batches=batches, metrics=Metrics("presale"),
                       max_event_bytes=64 * 1024, grace_ms=5_000,
                       fed_by_upstream=lambda partitions: None)


async def writes(outcome) -> None:
    for write in outcome.after_ack:
        await write()


def outputs(outcome) -> list:
    return [(o.topic, o.key, orjson.loads(o.value)) for o in outcome.outputs]


async def handle(store: MemoryRoleStore, records: list[ConsumerRecord]):
    outcome = await handler(store)(records)
    await writes(outcome)
    return outputs(outcome)


async def two_batches(store: MemoryRoleStore, *, pipelined: bool) -> list:
    """The day in two batches; `pipelined`: the second is read and decided before the
    first one's changes are written, as the consumer pipelines them."""
    records, batches = busy_day(), handler(store)
    first = await batches(records[:FIRST])
    if not pipelined:
        await writes(first)
    second = await batches(records[FIRST:])
    if pipelined:
        await writes(first)
    await writes(second)
    return outputs(first) + outputs(second)


def state(store: MemoryRoleStore) -> tuple:
    return (store.seen, store.convs, store.clocks, store.timers,
            {shop: vars(s) for shop, s in store.shops.items()})


async def test_a_batch_read_in_parts_decides_what_one_read_after_the_last_write_decides(
        monkeypatch) -> None:
    assert len(busy_day()) - FIRST > (PARTS - 1) * part_size(len(busy_day()) - FIRST)
    in_parts = Recording()
    parted = await two_batches(in_parts, pipelined=True)
    monkeypatch.setattr(handler_module, "part_size", lambda n: n)
    monkeypatch.setattr(batches_module, "EARLY_RESERVE_FROM", 10**9)
    at_once = Recording()
    whole = await two_batches(at_once, pipelined=False)

    assert parted == whole
    assert state(in_parts) == state(at_once)
    assigned = {o[2]["conversation_id"] for o in whole if o[0] == "kefu.assignments"}
    assert len(assigned) == CONVERSATIONS  # it did decide
    assert (len(in_parts.requests), len(at_once.requests)) == (2 + PARTS, 2)  # 450 = 2 parts


async def test_no_key_is_asked_for_twice_and_the_boards_come_with_the_last_read() -> None:
    store = Recording()
    await handle(store, busy_day())
    *parts, last = store.requests
    for kind in ("seen", "convs", "subjects"):
        asked = [k for r in store.requests for k in getattr(r, kind)]
        assert len(asked) == len(set(asked)), kind
    assert all(not r.boards for r in parts)
    assert set(last.boards) == {"shop0", "shop1", "shop2"}
    assert sum(len(b.buyers) for b in last.boards.values()) == CONVERSATIONS


async def test_each_part_is_sent_before_the_next_is_parsed(monkeypatch) -> None:
    log: list = []
    parse = handler_module.read_records

    def logged(records, *args, **kwargs):
        log.append(("parse", len(records)))
        return parse(records, *args, **kwargs)

    monkeypatch.setattr(handler_module, "read_records", logged)
    records = busy_day()
    await handle(Recording(log), records)
    size = part_size(len(records))
    assert [step for step, _ in log if step != "reserve"] == ["parse", "read"] * PARTS
    assert [n for step, n in log if step == "parse"] == [size] * (PARTS - 1) + [
        len(records) - size * (PARTS - 1)]


async def test_the_first_half_is_reserved_while_the_second_is_decided(monkeypatch) -> None:
    log: list = []
    decide = Decider.event

    def logged(self, event, shard):
        log.append(("decide", event.event_id))
        return decide(self, event, shard)

    monkeypatch.setattr(Decider, "event", logged)
    records = busy_day()
    await handle(Recording(log), records)
    steps = [step for step, _ in log if step != "read"]
    half = len(records) // 2
    assert steps[:half + 1] == ["decide"] * half + ["reserve"]
    assert steps[half + 1:] == ["decide"] * (len(records) - half) + ["reserve"]
    assert [n for step, n in log if step == "reserve"][0] > 0


async def test_deciding_a_big_batch_lets_the_event_loop_turn(monkeypatch) -> None:
    """The previous batch's write (and the rest of the process) goes on while a big
    batch is decided: at most YIELD_EVERY events are decided between two turns."""
    decided, run, longest = 0, 0, 0
    decide = Decider.event

    def counted(self, event, shard):
        nonlocal decided, run, longest
        decided, run = decided + 1, run + 1
        longest = max(longest, run)
        return decide(self, event, shard)

    def turned() -> None:
        nonlocal run
        run = 0  # a run of decisions ends

    monkeypatch.setattr(Decider, "event", counted)
    records = busy_day()
    with LoopTurns(turned):
        await handle(Recording(), records)
    assert decided == len(records)
    assert len(records) // 2 > batches_module.YIELD_EVERY
    assert longest == batches_module.YIELD_EVERY


async def test_a_failed_early_reservation_fails_the_batch() -> None:
    class Refusing(Recording):
        async def reserve(self, reservations, now_ms):
            raise ConnectionError("Redis refused")

    with pytest.raises(ConnectionError, match="refused"):
        await handle(Refusing(), busy_day())


async def test_a_small_batch_is_one_read() -> None:
    store = Recording()
    await handle(store, busy_day()[:part_size(0)])
    assert len(store.requests) == 1


async def test_a_failed_read_fails_the_batch_and_leaves_no_read_running() -> None:
    class Failing(Recording):
        def __init__(self) -> None:
            super().__init__()
            self.hanging: list[asyncio.Future] = []

        async def load(self, request):
            if not self.hanging:  # the first part never answers
                hang = asyncio.get_running_loop().create_future()
                self.hanging.append(hang)
                await hang
            raise ConnectionError("Redis went away")

    store = Failing()
    with pytest.raises(ConnectionError, match="went away"):
        await handle(store, busy_day())
    assert store.hanging and store.hanging[0].cancelled()


async def test_a_batch_that_breaks_after_its_early_reservation_failed_leaves_no_stray_error(
        monkeypatch) -> None:
    """The record that breaks the batch is what the consumer isolates; the refused early
    reservation is not reported again as an error nobody retrieved."""
    class Refusing(Recording):
        async def reserve(self, reservations, now_ms):
            raise ConnectionError("Redis refused")

    records = busy_day()
    breaking = orjson.loads(records[-50].value)["event_id"]
    decide = Decider.event

    def breaks(self, event, shard):
        if event.event_id == breaking:
            raise ValueError("a record that breaks the decider")
        return decide(self, event, shard)

    monkeypatch.setattr(Decider, "event", breaks)
    loop, stray = asyncio.get_running_loop(), []
    loop.set_exception_handler(lambda _loop, context: stray.append(context["message"]))
    try:
        with pytest.raises(ValueError, match="breaks the decider"):
            await handle(Refusing(), records)
        gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert stray == []
