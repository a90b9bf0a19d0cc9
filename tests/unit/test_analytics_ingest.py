"""The ingest handler on fakes: once a batch's dead letters are acked its rows are
inserted and only then its memos saved; records it cannot read become dead letters; a
redelivered batch writes the same facts whether or not its memos were saved before the
crash; a batch decided before its predecessor's memos were saved (pipelined) sees them."""

import asyncio
import copy
from datetime import datetime, timedelta

import orjson
import pytest
from aiokafka import ConsumerRecord

from contracts import example, topics
from services.analytics.ingest.handler import IngestHandler
from services.analytics.store import QueryResult, StoreUnavailable
from services.core.metrics import Metrics
from services.core.policy import load_policy
from services.core.retry import is_transient

POLICY = load_policy(None)
T0 = datetime.fromisoformat("2026-11-02T10:00:00+08:00")


class RecordingStore:
    def __init__(self, log: list | None = None) -> None:
        self.inserts: list[tuple[str, list[dict]]] = []
        self.log = log if log is not None else []

    def insert(self, table: str, rows: list[dict]) -> None:
        self.inserts.append((table, rows))
        self.log.append("insert")

    def select(self, sql: str, params=None) -> QueryResult:
        return QueryResult(["uuid"], ["String"], [["generation-1"]])

    def tables(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for table, rows in self.inserts:
            out.setdefault(table, []).extend(rows)
        return out


class DictMemos:
    generation = ""

    def __init__(self, log: list | None = None) -> None:
        self.saved: dict = {}
        self.log = log if log is not None else []

    async def load(self, keys):
        return {k: orjson.loads(self.saved[k]) for k in keys if k in self.saved}

    async def save(self, memos: dict) -> None:
        self.saved.update(memos)
        self.log.append("save")


async def completed(outcome) -> None:
    for effect in outcome.after_ack:
        await effect()


def record(topic: str, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(topic, 0, offset, 0, 0, b"c1", value, None, 2, len(value), [])


def chat(kind: str, n: int, seconds: int) -> bytes:
    body = example(kind, event_id=f"e{n}", shop_id="s1",
                   occurred_at=(T0 + timedelta(seconds=seconds)).isoformat())
    body["payload"]["conversation_id"] = "c1"
    return orjson.dumps(body)


BATCH = [record(topics.ROLE_PRESALE, 0, chat("buyer.message", 1, 0)),
         record(topics.ROLE_PRESALE, 1, chat("agent.message", 2, 40)),
         record(topics.ESCALATIONS, 0, b"\xff\xfe not utf-8"),
         record(topics.ROLE_PRESALE, 2, chat("buyer.message", 3, 60))]


def handler(store, memos) -> IngestHandler:
    return IngestHandler(store=store, memos=memos, policy_for=POLICY.for_shop,
                         metrics=Metrics("analytics"))


async def test_rows_are_inserted_before_the_memos_are_saved_and_bad_records_dead_lettered():
    log: list[str] = []
    store, memos = RecordingStore(log), DictMemos(log)
    outcome = await handler(store, memos)(BATCH)
    assert log == [], "nothing is written before the batch's dead letters are acked"
    letters = [orjson.loads(o.value) for o in outcome.outputs]
    assert [(lt["reason"], lt["source_topic"], lt["service"]) for lt in letters] == [
        ("invalid_encoding", topics.ESCALATIONS, "analytics")]
    await completed(outcome)
    assert log[-1] == "save" and set(log[:-1]) == {"insert"}
    rounds = store.tables()["rounds"]
    assert [(r["round_id"], r["end_reason"]) for r in rounds] == [("e1", "reply"), ("e3", "")]
    assert len(store.tables()["messages"]) == 3
    assert memos.generation == "generation1"  # the UUID without dashes
    assert list(memos.saved) == [("s1", "conversation", "presale:c1")]


async def test_the_next_batch_sees_memos_its_predecessor_has_not_saved_yet():
    store, memos = RecordingStore(), DictMemos()
    ingest = handler(store, memos)
    first = await ingest(BATCH[:1])  # the round opens
    second = await ingest([record(topics.ROLE_PRESALE, 1, chat("agent.message", 2, 40))])
    await completed(first)
    await completed(second)
    rounds = store.tables()["rounds"]
    assert [(r["round_id"], r["end_reason"], r["business_ms"]) for r in rounds] == [
        ("e1", "", None), ("e1", "reply", 40_000)]
    assert ingest.pending == {}, "every decided memo was saved"


async def test_memos_saved_while_the_next_batch_reads_are_not_lost():
    """Pipelined, the race of two connections: the next batch's read is answered as
    Redis was before its predecessor's save, but the save's reply is handled first."""
    store, memos = RecordingStore(), DictMemos()
    ingest = handler(store, memos)
    answered, release = asyncio.Event(), asyncio.Event()
    load = memos.load

    async def read_then_wait(keys):
        found = await load(keys)  # answered now, without the predecessor's save
        answered.set()
        await release.wait()
        return found

    first = await ingest(BATCH[:1])  # the round opens
    memos.load = read_then_wait
    second = asyncio.create_task(
        ingest([record(topics.ROLE_PRESALE, 1, chat("agent.message", 2, 40))]))
    await answered.wait()
    await completed(first)  # saved, and no longer pending, while the read is on its way
    release.set()
    await completed(await second)
    rounds = store.tables()["rounds"]
    assert [(r["round_id"], r["end_reason"], r["business_ms"]) for r in rounds] == [
        ("e1", "", None), ("e1", "reply", 40_000)], "the reply ends the round it answers"


async def test_a_redelivered_batch_writes_the_same_facts_saved_memos_or_not():
    first, memos = RecordingStore(), DictMemos()
    outcome = await handler(first, memos)(BATCH)
    await outcome.after_ack[0]()  # inserted, then a crash before the memos were saved
    unsaved = RecordingStore()
    await completed(await handler(unsaved, memos)(BATCH))
    assert unsaved.tables() == first.tables()
    snapshot = copy.deepcopy(memos.saved)
    saved = RecordingStore()  # crash after the memos were saved, before the commit
    await completed(await handler(saved, memos)(BATCH))
    assert saved.tables()["messages"] == first.tables()["messages"]
    assert "rounds" not in saved.tables(), "applied events change no round again"
    assert memos.saved == snapshot


def test_store_unavailable_is_transient_so_the_batch_is_retried_not_committed():
    assert is_transient(StoreUnavailable("ClickHouse server unreachable"))


@pytest.mark.parametrize("message, transient", [
    ("Code: 252. DB::Exception: Too many parts", True),
    ("Code: 241. DB::Exception: Memory limit (total) exceeded", True),
    ("Code: 62. DB::Exception: Syntax error", False),
])
def test_clickhouse_push_back_is_retried_and_errors_are_not(message, transient):
    from services.analytics.store.port import refused

    assert is_transient(refused(message)) is transient


async def test_a_store_refusing_rows_is_retried_like_one_that_is_down():
    from services.analytics.store import StoreError

    class RefusingStore(RecordingStore):
        def insert(self, table, rows):
            raise StoreError("Code: 60. DB::Exception: Table kefu.rounds does not exist")

    outcome = await handler(RefusingStore(), DictMemos())(BATCH)
    with pytest.raises(StoreUnavailable, match="does not exist"):
        await outcome.after_ack[0]()


async def test_supervisor_actions_on_a_role_topic_are_read_but_make_no_rows():
    store, memos = RecordingStore(), DictMemos()
    actions = [example(kind, shop_id="s1", event_id=f"x{n}")
               for n, kind in enumerate(("escalation.acknowledged", "conversation.reassigned"))]
    batch = [record(topics.ROLE_PRESALE, n, orjson.dumps(a)) for n, a in enumerate(actions)]
    outcome = await handler(store, memos)(batch)
    assert outcome.outputs == [], "valid actions are no dead letters"
    await completed(outcome)
    assert store.tables().get("messages", []) == []


def handoff(order: str) -> list[ConsumerRecord]:
    """A pre-sale round left open, then a buyer message that moves the conversation to
    after-sale: the router sends it to after-sale and pre-sale a `conversation.closed` at
    its time (README, "The router"). The two topics are read in no fixed order."""
    closed = orjson.loads(chat("conversation.closed", 5, 120))
    closed["payload"]["closed_by"] = "handoff:aftersale"
    moved = [record(topics.ROLE_PRESALE, 1, orjson.dumps(closed)),
             record(topics.ROLE_AFTERSALE, 0, chat("buyer.message", 6, 120))]
    return moved if order == "closed first" else moved[::-1]


@pytest.mark.parametrize("order", ["closed first", "message first"])
async def test_a_handoff_ends_the_old_roles_round_and_opens_one_in_the_new_role(order):
    """As the role services do (each keeps its own clock): the after-sale message starts
    an after-sale round whichever topic is read first, and the pre-sale round ends."""
    store, memos = RecordingStore(), DictMemos()
    ingest = handler(store, memos)
    await completed(await ingest([record(topics.ROLE_PRESALE, 0, chat("buyer.message", 1, 0))]))
    await completed(await ingest(handoff(order)))
    rounds = {(r["round_id"], r["version"]): r for r in store.tables()["rounds"]}
    assert (rounds[("e1", 2)]["role"], rounds[("e1", 2)]["end_reason"]) == ("presale", "closed")
    assert (rounds[("e6", 1)]["role"], rounds[("e6", 1)]["sla"]) == ("aftersale",
                                                                   "first_response")
