"""Fuzzed input through the real broker and the running router: 2,000 random, mutated,
truncated and redelivered records into kefu.inbound. Every one is either routed (counted
by (shop_id, event_id): exactly once per distinct valid event, on the right topics) or
dead-lettered (counted by source partition and offset: exactly once, with the contract's
reason), and the router commits the whole stream.

The seed is printed; set KEFU_FUZZ_SEED to replay a run."""

from __future__ import annotations

import asyncio
import os
import random
from collections import defaultdict

import pytest

from contracts import topics
from services.router.classify import INTENTS
from tests.support.faults import (
    ROUTER_DLQ_REASONS,
    InboundFuzzer,
    committed_offsets,
    expect_router,
    routed_topics,
)
from tests.support.handoffs import buyer_message_topics, is_handoff
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e

TOTAL = 2000
MAX_EVENT_BYTES = 64 * 1024
ROLE_TOPICS = {topics.ROLE_PRESALE: "presale", topics.ROLE_AFTERSALE: "aftersale"}
OUTPUTS = (topics.DLQ, topics.ROLE_PRESALE, topics.ROLE_AFTERSALE, topics.ORDERS)


async def test_every_fuzzed_record_is_routed_once_or_dead_lettered(stack, kafka):
    seed = int(os.environ.get("KEFU_FUZZ_SEED") or random.randrange(2**32))
    print(f"\nKEFU_FUZZ_SEED={seed}")
    rng = random.Random(seed)
    fuzzer = InboundFuzzer(rng, huge=MAX_EVENT_BYTES)
    settings = stack.settings(max_event_bytes=MAX_EVENT_BYTES, consumer_max_records=200)
    async with running("router", settings):
        producer = await kafka.producer()
        sends, expected = [], []
        oracle_seen: set = set()
        for _ in range(TOTAL):
            raw = fuzzer.record()
            exp = expect_router(raw, MAX_EVENT_BYTES, oracle_seen)
            key = exp.key if exp.event is not None else rng.choice(
                (None, "k", "键", f"k{rng.getrandbits(8)}"))
            sends.append(await producer.send(topics.INBOUND, raw,
                                             key=key.encode() if key is not None else None))
            expected.append(exp)
        metas = await asyncio.gather(*sends)

        letters_wanted = {(m.partition, m.offset): e for m, e in zip(metas, expected, strict=True)
                          if e.reasons}
        candidates: dict[tuple[str, str], list] = defaultdict(list)
        for exp in expected:
            if not exp.reasons:
                candidates[exp.identity].append(exp)
        wanted = len(letters_wanted) + sum(  # copies of one event_id may differ in type
            min(outputs_wanted(e.event) for e in c) for c in candidates.values())
        found = await kafka.collect(OUTPUTS, lambda body, record: True, count=wanted,
                                    timeout=90, settle=2.0)

        group = settings.group_id("router")
        ends = {m.partition: 0 for m in metas}
        for m in metas:
            ends[m.partition] = max(ends[m.partition], m.offset + 1)

        async def all_committed() -> bool:
            done = await committed_offsets(stack.broker.bootstrap, group, topics.INBOUND)
            return all(done.get(p, 0) >= end for p, end in ends.items())

        assert await wait_until(all_committed, timeout=30, interval=0.5), "stream not committed"

    letters: dict[tuple[int, int], dict] = {}
    routed: dict[tuple[str, str], list] = defaultdict(list)
    for body, record in found:
        if record.topic == topics.DLQ:
            where = (body["partition"], body["offset"])
            assert body["source_topic"] == topics.INBOUND
            assert where not in letters, f"seed {seed}: offset {where} dead-lettered twice"
            letters[where] = body
        else:
            routed[(body["shop_id"], body["event_id"])].append((record, body))
    problems = []
    for where, exp in letters_wanted.items():
        letter = letters.pop(where, None)
        if letter is None:
            problems.append(f"no dead letter for {where} ({exp.reasons}): {exp.raw[:200]!r}")
        elif letter["reason"] not in exp.reasons or letter["reason"] not in ROUTER_DLQ_REASONS:
            problems.append(f"{where}: reason {letter['reason']}, expected {exp.reasons}: "
                            f"{letter['detail'][:200]}")
    problems += [f"dead letter for valid input at {w}: {b['reason']}: {b['detail'][:160]}"
                 for w, b in letters.items()]
    chats: set[tuple[str, str, str]] = set()  # (shop, conversation, role topic) routed
    for identity, copies in candidates.items():
        outs = routed.pop(identity, [])
        chats.update(buyer_message_topics((record.topic, body) for record, body in outs))
        if not outs and any(routed_topics(e.event) == set() for e in copies):
            continue  # a reply script the router kept
        if not outs:
            problems.append(f"valid event never routed: {identity}")
            continue
        problems += routing_problems(identity, copies, outs)
    problems += [f"routed but never sent valid: {i}" for i, outs in routed.items()
                 if not all(is_handoff(record.topic, body, chats) for record, body in outs)]
    assert not problems, f"seed {seed}: {len(problems)} problems:\n" + "\n".join(problems[:20])


def outputs_wanted(event) -> int:
    """How many outputs a valid event has: one per topic, one role topic when it depends
    on routing (None), none for a reply script."""
    topics_wanted = routed_topics(event)
    return 1 if topics_wanted is None else len(topics_wanted)


def routing_problems(identity, copies, outs) -> list[str]:
    """The outputs of one (shop_id, event_id) come from exactly one of its valid copies."""
    for exp in copies:
        topics_wanted = routed_topics(exp.event)
        got = sorted(record.topic for record, _ in outs)
        if topics_wanted is None:
            if len(got) != 1 or got[0] not in ROLE_TOPICS:
                continue
        elif got != sorted(topics_wanted):
            continue
        if all(matches(exp, record, body) for record, body in outs):
            return []
    return [f"{identity}: outputs {[(r.topic, r.offset) for r, _ in outs]} match no single "
            f"valid copy of {len(copies)}"]


def matches(exp, record, body) -> bool:
    if record.key != exp.key.encode():
        return False
    if exp.event.event_type != "buyer.message":
        return record.value == exp.raw
    body = dict(body)
    routing = body.pop("routing", None) or {}
    return (body == exp.data
            and routing.get("role") == ROLE_TOPICS[record.topic]
            and routing.get("intent") in INTENTS)
