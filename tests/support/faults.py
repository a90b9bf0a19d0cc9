"""Support for the fault and fuzz tests:

- readers of committed offsets and produced log ends, and a collect matcher that counts
  distinct ids while keeping every copy (to count repeats);
- `InboundFuzzer` (random, mutated, truncated and redelivered inbound events) and the
  router's expected outcome of any input (`expect_router`, from the contract's own
  oracle in `inbound_oracle`);
- the four services running in-process on one stack (`running_system`), with the
  notifier on a movable clock, and the policy and event builders the tests share.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.core.embedded import free_port
from tests.support.inbound_oracle import judge

# --- readers --------------------------------------------------------------------------


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of `topic`, read without joining the
    group. The partitions come from the metadata: the embedded broker does not answer an
    admin offset fetch that names no partitions (`benchmarks.common.kafka_io.
    wait_committed` names them)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                              enable_auto_commit=False)
    await reader.start()
    try:
        await reader._client.force_metadata_update()
        partitions = reader.partitions_for_topic(topic) or set()
        found = {}
        for partition in sorted(partitions):
            found[partition] = await reader.committed(TopicPartition(topic, partition)) or 0
        return found
    finally:
        await reader.stop()


async def group_committed_through(bootstrap: str, group: str,
                                  ends: dict[tuple[str, int], int],
                                  topics: Iterable[str] | None = None) -> bool:
    """Whether `group` has committed up to `ends` (`ends_of`) on every partition of
    `topics` (default: every topic of `ends`)."""
    for topic in topics if topics is not None else {t for t, _ in ends}:
        done = await committed_offsets(bootstrap, group, topic)
        if any(done.get(p, 0) < end for (t, p), end in ends.items() if t == topic):
            return False
    return True


def transient_retries(app, steps: Iterable[str] = ("handle", "publish", "after_ack")) -> float:
    """How often an in-process service retried a transient failure of these steps."""
    registry = app.metrics.registry
    return sum(registry.get_sample_value("kefu_transient_retries_total", {"step": step}) or 0
               for step in steps)


def repeats(ids) -> int:
    """How many of `ids` are repeats of an id seen before."""
    return sum(n - 1 for n in Counter(ids).values())


# --- fuzzed inbound events --------------------------------------------------------------
#
# One engine over the `random.Random` API, so that hypothesis (`st.randoms()`) drives it
# at the handler level and a seeded `random.Random` drives it through the real broker.

TIME_FIELDS = ("occurred_at", "promised_ship_by", "new_ship_by", "respond_by")
ID_FIELDS = ("event_id", "shop_id", "conversation_id", "buyer_id", "message_id", "agent_id",
             "order_id", "case_id", "carrier", "tracking_no")
NUMERIC_AS_TEXT = {"schema_version": "1", "rating": "3", "max_concurrent": "5",
                   "amount": "289.0", "quantity": "1", "price": "9.9"}
UNICODE_SAMPLES = ("亲，在吗？", "退款！！！😡😡", "ش ك ر ا", "\u200b\u200d\ufeff", "é\u0301",
                   "\x00nul", "\U0001f9e7" * 20, "繁體中文，請問有貨嗎", "🏳️‍🌈", "\\\"'<>&",
                   "\u202eRTL", "𠜎𠜱𠝹𠱓")
NAIVE_TIMES = ("2026-11-22T09:30:00", "2026-11-22 09:30:00", "2026-11-22T09:30:00.123456")
BAD_TIMES = ("yesterday", "2026-11-22", "2026-13-45T99:99:99+08:00", "2026-11-22T09:30:00+25:00",
             "", "T09:30", 1_700_000_000, 1.5, None, True, [], {})
ODD_TIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
             "2026-11-22T09:30:00Z", "2026-11-22t09:30:00.999999999+08:00",
             "2026-02-29T00:00:00+08:00", "2026-11-22T09:30:00-00:00")
WRONG_VALUES = (0, -1, 1.5, 2**70, -0.0, 1e308, True, False, None, "", "x", [], [1, "a"], {},
                {"k": "v"}, "1", "null")


class InboundFuzzer:
    """Random, mutated and truncated inbound events: `record()` returns one message's bytes.

    Draws only through `rng` (a `random.Random`, or hypothesis' `st.randoms()`)."""

    def __init__(self, rng, *, huge: int = 70_000, shops: int = 3,
                 max_depth: int = 600) -> None:
        self.rng, self.huge, self.max_depth = rng, huge, max_depth
        self.shops = [f"fz-shop-{i}" for i in range(shops)]
        self.sent: list[bytes] = []  # well-formed documents, for duplicates
        self.counter = 0

    # --- building blocks --------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self.counter += 1
        tail = self.rng.choice(("", "-中文", "-ü", "-{tag}", "-a|b", "-:", " sp", "-😀"))
        return f"{prefix}-{self.counter}-{self.rng.getrandbits(24):x}{tail}"

    def _text(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice((
                "这个有货吗", "能便宜点吗", "什么时候发货", "我的快递到哪了？", "我要退货退款",
                "质量太差了，破了个洞", "再不处理我就投诉，给差评！", "在吗", "hello?",
                "where is my parcel", "不是要退货，我想问什么时候发货", "改一下地址"))
        if r < 0.8:
            return "".join(self.rng.choice(UNICODE_SAMPLES) for _ in range(self.rng.randint(1, 4)))
        return "".join(chr(self.rng.choice((self.rng.randint(32, 0x2FFF),
                                            self.rng.randint(0x4E00, 0x9FFF),
                                            self.rng.randint(0x1F300, 0x1FAFF))))
                       for _ in range(self.rng.randint(0, 40)))

    def valid(self) -> dict:
        """A valid envelope of a random type with fresh ids (and random optional parts)."""
        from contracts import EXAMPLES, example

        kind = self.rng.choice(sorted(EXAMPLES))
        doc = example(kind, event_id=self._id("e"), shop_id=self.rng.choice(self.shops))
        payload = doc["payload"]
        for name in ("conversation_id", "buyer_id", "message_id", "agent_id", "order_id",
                     "case_id"):
            if name in payload and self.rng.random() < 0.8:
                payload[name] = self._id(name.split("_")[0])
        if "text" in payload:
            payload["text"] = self._text()
        if kind == "agent.status":
            payload["roles"] = self.rng.choice((["presale"], ["aftersale"],
                                                ["presale", "aftersale"]))
        if self.rng.random() < 0.2:
            doc["occurred_at"] = self.rng.choice(ODD_TIMES[2:])
        if self.rng.random() < 0.15:
            doc.pop("trace_id", None)
        if self.rng.random() < 0.25:
            self._extra(doc)
        return doc

    def _wrong(self):
        """A value of the wrong type: a copy, as a document may be mutated further (a
        field added to a `{}`), and a shared one would change every later document."""
        return copy.deepcopy(self.rng.choice(WRONG_VALUES))

    def _extra(self, doc: dict) -> None:
        where = doc if self.rng.random() < 0.5 else doc.get("payload")
        if not isinstance(where, dict):
            where = doc
        r = self.rng.random()
        if r < 0.15:  # a field another event type knows, as an extra field here
            where[self.rng.choice(ID_FIELDS[2:] + ("text", "status", "roles", "locale"))] = \
                copy.deepcopy(self.rng.choice(WRONG_VALUES + (self._id("x"),)))
        elif r < 0.4:
            where[f"x_{self.rng.getrandbits(16)}"] = self._wrong()
        elif r < 0.7:
            where["x_unicode_键"] = self._text()
        else:
            where["x_deep"] = self._nested(self.rng.randint(1, self.max_depth))

    def _nested(self, depth: int):
        value: object = self.rng.choice(("leaf", 1, None, []))
        for _ in range(depth):
            value = {"n": value} if self.rng.random() < 0.7 else [value]
        return value

    def _paths(self, doc: dict) -> list[tuple]:
        paths = [(k,) for k in doc]
        if isinstance(doc.get("payload"), dict):
            paths += [("payload", k) for k in doc["payload"]]
        return paths

    @staticmethod
    def _set(doc: dict, path: tuple, value) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    @staticmethod
    def _pop(doc: dict, path: tuple) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target.pop(path[-1], None)

    # --- mutations ----------------------------------------------------------------------
    def mutate(self, doc: dict) -> dict:
        for _ in range(self.rng.randint(1, 3)):
            paths = self._paths(doc)
            if not paths:
                break
            op = self.rng.randint(0, 13)
            path = self.rng.choice(paths)
            if op == 0:
                self._pop(doc, path)
            elif op == 1:
                self._set(doc, path, self._wrong())
            elif op == 2:
                for name, text in NUMERIC_AS_TEXT.items():
                    for p in self._paths(doc):
                        if p[-1] == name:
                            self._set(doc, p, text)
            elif op == 3:
                times = [p for p in paths if p[-1] in TIME_FIELDS] or [("occurred_at",)]
                self._set(doc, self.rng.choice(times), self.rng.choice(NAIVE_TIMES))
            elif op == 4:
                times = [p for p in paths if p[-1] in TIME_FIELDS] or [("occurred_at",)]
                self._set(doc, self.rng.choice(times),
                          self.rng.choice(BAD_TIMES + ODD_TIMES))
            elif op == 5:
                size = self.rng.choice((129, 1000, 20_000, self.huge // 2, self.huge + 10))
                self._set(doc, path, self.rng.choice(("x", "中", "😀")) * size)
            elif op == 6:
                self._extra(doc)
            elif op == 7:
                self._set(doc, path, self._text())
            elif op == 8:
                doc["schema_version"] = self.rng.choice((0, 2, 99, -1, 1.0, True, "1", None,
                                                         2**70, 1))
            elif op == 9:
                from contracts import EventType

                doc["event_type"] = self.rng.choice(
                    [e.value for e in EventType] + ["buyer.sneezed", "", "BUYER.MESSAGE",
                                                    None, 5, ["buyer.message"]])
            elif op == 10:
                doc["payload"] = self.rng.choice(([], "payload", None, 1, {}))
            elif op == 11:
                ids = [p for p in paths if p[-1] in ID_FIELDS] or [("event_id",)]
                self._set(doc, self.rng.choice(ids), self.rng.choice(("", " ", "x" * 129,
                                                                      "x" * 65, 7, None)))
            elif op == 12:
                for p in paths:
                    value = self._get(doc, p)
                    if isinstance(value, str) and value in ("presale", "online", "taobao",
                                                            "in_transit", "agreed", "address",
                                                            "return_refund"):
                        self._set(doc, p, value.upper())
            else:
                doc["platform"] = self.rng.choice(("TAOBAO", "amazon", "", 1, None))
        return doc

    @staticmethod
    def _get(doc: dict, path: tuple):
        target = doc
        for part in path:
            target = target[part]
        return target

    # --- serialisation and byte-level damage --------------------------------------------
    def encode(self, doc) -> bytes:
        text = json.dumps(doc, ensure_ascii=self.rng.random() < 0.3,
                          separators=self.rng.choice(((",", ":"), (", ", ": "))))
        return text.encode("utf-8", "surrogatepass")

    def damage(self, raw: bytes) -> bytes:
        r = self.rng.randint(0, 6)
        if r == 0 and raw:
            return raw[: self.rng.randint(0, len(raw) - 1)]  # truncated
        if r == 1 and raw:
            i = self.rng.randint(0, len(raw) - 1)
            return raw[:i] + bytes([self.rng.getrandbits(8)]) + raw[i + 1:]  # one byte flipped
        if r == 2:
            return raw.replace(b'"', b"'", 1)
        if r == 3 and raw.endswith(b"}"):
            return raw[:-1] + b', "event_id": "dup-key"}'  # a duplicate key (last one wins)
        if r == 4 and raw.endswith(b"}"):
            return raw[:-1] + self.rng.choice((b', "x": 1e400}', b', "x": NaN}',
                                               b', "x": "\\ud800"}', b', "x": 1}}', b",}",
                                               b', "x": 123456789012345678901234567890}'))
        if r == 5:
            return b"\xef\xbb\xbf" + raw  # a UTF-8 byte-order mark
        return raw + self.rng.choice((b"\n", b" ", b"\x00", b"{}", b"\xff"))

    def record(self) -> bytes:
        """One inbound message's bytes."""
        r = self.rng.random()
        if r < 0.04:
            return self.rng.randbytes(self.rng.randint(0, 64))
        if r < 0.07:
            return self.encode(self.rng.choice(([1, 2], "text", 3, None, True, [], [{}],
                                                {"event_id": "only"})))
        if r < 0.10 and self.sent:
            return self.rng.choice(self.sent)  # an exact redelivery of an earlier event
        if r < 0.12 and self.sent:
            earlier = json.loads(self.rng.choice(self.sent))
            fresh = self.valid()
            if isinstance(earlier, dict) and isinstance(earlier.get("event_id"), str):
                fresh.update(event_id=earlier["event_id"], shop_id=earlier.get("shop_id"))
            return self.encode(fresh)  # the same event_id with other content
        if r < 0.45:
            raw = self.encode(self.valid())
            self.sent.append(raw)
            return raw
        if r < 0.88:
            return self.encode(self.mutate(self.valid()))
        return self.damage(self.encode(self.valid()))


# --- the router's expected outcome of fuzzed input ----------------------------------------

ROUTER_DLQ_REASONS = frozenset({"invalid_encoding", "invalid_json", "schema_violation",
                                "unsupported_schema_version", "unknown_event_type",
                                "naive_timestamp", "oversize"})


@dataclass
class Expected:
    """What the router must do with one record: dead-letter it with one of `reasons`,
    or route the event (`event`, `data`, `key`) once, or drop it as a repeat of an
    earlier event."""

    raw: bytes
    reasons: frozenset[str] = frozenset()
    event: object = None
    data: dict | None = None
    key: str | None = None
    duplicate: bool = False

    @property
    def identity(self) -> tuple[str, str]:
        return (self.event.shop_id, self.event.event_id)


def expect_router(raw: bytes, max_event_bytes: int, seen: set[tuple[str, str]]) -> Expected:
    """The contract's verdict on `raw` (`inbound_oracle`, written from the contract, not
    from the parser it checks); `seen` holds the (shop, event_id) of events routed before."""
    verdict = judge(raw, max_event_bytes)
    if verdict.reasons:
        return Expected(raw, reasons=verdict.reasons)
    expected = Expected(raw, event=verdict.event, data=verdict.doc, key=verdict.key)
    if expected.identity in seen:
        expected.duplicate = True
    else:
        seen.add(expected.identity)
    return expected


def routed_topics(event) -> set[str] | None:
    """The topics a valid event must reach: a set (empty for a reply script, which the
    router keeps), or None for "exactly one role topic" (buyer messages by
    classification; agent messages and closes by the sticky role)."""
    from contracts import EventType
    from contracts.topics import (
        ORDER_EVENT_TYPES,
        ORDERS,
        ROLE_EVENT_TYPES,
        SUPERVISOR_EVENT_TYPES,
        role_topic,
    )

    if event.event_type == EventType.AGENT_STATUS:
        return {role_topic(r) for r in event.payload.roles}
    if event.event_type in SUPERVISOR_EVENT_TYPES:
        return {role_topic(event.payload.role)}
    if event.event_type not in ORDER_EVENT_TYPES | ROLE_EVENT_TYPES:
        return set()
    if event.event_type in ROLE_EVENT_TYPES:
        return None
    return {ORDERS}


def ends_of(metadata) -> dict[tuple[str, int], int]:
    """The next offset per (topic, partition) after the produced records whose
    RecordMetadata are given. (Tansu answers ListOffsets/end_offsets wrongly, so the
    tests take log ends from what they produced.)"""
    ends: dict[tuple[str, int], int] = {}
    for m in metadata:
        key = (m.topic, m.partition)
        ends[key] = max(ends.get(key, 0), m.offset + 1)
    return ends


class FirstSeen:
    """A `KafkaIO.collect` matcher that counts each identity once (so `count=` means
    "distinct ids") while keeping every matching copy in `.all` (to count repeats)."""

    def __init__(self, match, identity) -> None:
        self.match, self.identity = match, identity
        self.all: list[dict] = []
        self.ids: set = set()

    def __call__(self, body, record) -> bool:
        if not self.match(body, record):
            return False
        self.all.append(body)
        key = self.identity(body)
        new = key not in self.ids
        self.ids.add(key)
        return new


# --- the whole system in-process ------------------------------------------------------------

GROUP_TOPICS = {
    "router": ("kefu.inbound",),
    "presale": ("kefu.role.presale", "kefu.orders"),
    "aftersale": ("kefu.role.aftersale", "kefu.orders"),
    "notifier": ("kefu.orders", "kefu.escalations", "kefu.assignments"),
}


class MovableClock:
    """The notifier's injected clock: now, moved by `offset`."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class System:
    """The four services running in-process against one stack."""

    def __init__(self, stack, settings, clock: MovableClock, apps: dict) -> None:
        self.stack, self.settings, self.clock, self.apps = stack, settings, clock, apps

    async def offsets(self) -> dict[tuple[str, str], dict[int, int]]:
        """Committed offsets of every service's group on each of its topics."""
        found = {}
        for service, names in GROUP_TOPICS.items():
            for topic in names:
                found[(service, topic)] = await committed_offsets(
                    self.stack.broker.bootstrap, self.settings.group_id(service), topic)
        return found

    async def committed_through(self, produced) -> bool:
        """Every group committed past every record of `produced` on its topics."""
        ends = ends_of(produced)
        for service, names in GROUP_TOPICS.items():
            if not await group_committed_through(self.stack.broker.bootstrap,
                                                 self.settings.group_id(service), ends, names):
                return False
        return True

    def retries(self, service: str) -> float:
        return transient_retries(self.apps[service])

    def assignment_counts(self) -> list[int]:
        return [t.assignments for app in self.apps.values() for t in app.trackers]

    def rejoined(self, before: list[int]) -> bool:
        """Every consumer was given its partitions again since `before`: after a broker
        that lost its data comes back, only a rejoin resets the consumers' in-memory
        positions to the new (empty) log; fetching on at the old positions would skip
        the first records of the new log."""
        return all(now > then for now, then in zip(self.assignment_counts(), before, strict=True))

    async def healthy(self) -> bool:
        """What /readyz checks, for every service: Redis, broker, group joined."""
        for app in self.apps.values():
            try:
                if not (await app._redis_ok() and await app._broker_ok() and await app._joined()):
                    return False
            except Exception:
                return False
        return True


@asynccontextmanager
async def running_system(stack, settings):
    """Router, pre-sale, after-sale and the notifier (on a `MovableClock`) in-process,
    each on its own HTTP port, all joined to their groups."""
    from services.cli.services import create_app
    from services.notifier.app import create_app as create_notifier
    from tests.support.kafka_io import wait_until

    clock = MovableClock()
    apps: dict = {}
    try:
        for name in ("router", "presale", "aftersale", "notifier"):
            own = settings.model_copy(update={"http_port": free_port()})
            apps[name] = create_notifier(own, clock=clock) if name == "notifier" else \
                create_app(name, own)
        started = await asyncio.gather(*(app.start() for app in apps.values()),
                                       return_exceptions=True)
        failed = [exc for exc in started if isinstance(exc, BaseException)]
        if failed:
            raise failed[0]
        joined = await wait_until(lambda: all(t.joined for a in apps.values() for t in a.trackers),
                                  timeout=60)
        assert joined, "the services did not join their groups"
        yield System(stack, settings, clock, apps)
    finally:
        for app in reversed(list(apps.values())):
            await app.stop()


def system_policy(quiet_shop: str) -> str:
    """Short order clocks (ship_by 6 s: warning at 3 s, breach at 6 s, level 3 at 9 s),
    hour-long response clocks, no quiet hours except for `quiet_shop`, whose quiet hours
    run from an hour ago to an hour from now (move the notifier clock to end them)."""
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = ((local + timedelta(hours=h)).strftime("%H:%M") for h in (-1, 1))
    return f"""shops:
  default:
    business_hours: {{mon-sun: [["00:00", "24:00"]]}}
    warn_at: 0.5
    level3_after: 1.5
    sla:
      presale: {{first_response: 1h, next_response: 1h}}
      aftersale: {{first_response: 1h, next_response: 1h}}
      ship_by: 6s
      aftersale_response: 1h
      order_change_confirmation: 1h
      logistics_stalled: 1h
    notify: {{quiet_hours: []}}
  {quiet_shop}:
    timezone: Asia/Shanghai
    notify: {{quiet_hours: ["{start}", "{end}"]}}
"""


# --- events -----------------------------------------------------------------------------------


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def event(event_type: str, shop: str, /, **payload) -> dict:
    """An inbound envelope of `event_type` with exactly `payload`, occurring now."""
    from contracts import example

    body = example(event_type, event_id=_unique("e"), shop_id=shop,
                   occurred_at=datetime.now(UTC).isoformat())
    body["payload"] = payload
    return body


def buyer_message(shop: str) -> dict:
    return event("buyer.message", shop, conversation_id=_unique("c"), buyer_id=_unique("b"),
                 message_id=_unique("m"), text="这个有货吗？")


def inbound_key(body: dict) -> str:
    p = body["payload"]
    return p.get("conversation_id") or p.get("agent_id") or p["order_id"]


async def send_all(kafka, items: list[tuple[str, dict, str]]) -> list:
    """Produce (topic, body, key) items; return their RecordMetadata."""
    producer = await kafka.producer()
    futures = [await producer.send(topic, orjson.dumps(body), key=key.encode())
               for topic, body, key in items]
    return list(await asyncio.gather(*futures))

