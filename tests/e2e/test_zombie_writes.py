"""A replica paused past its session (a long GC, a frozen VM) must not undo, when it
wakes, the work of the replica that took its partitions over meanwhile.

The paused replica had decided a batch (a buyer's message opens the first-response
clock) and published its outputs, but not yet written its state. Meanwhile the agent
answered in time and the new owner recorded it. When the old replica wakes, its late
write would reopen the answered conversation's clock, and the supervisor would get a
false breach. Fencing refuses that write: each owner of a partition raises its
generation, and state last written by a newer generation is never overwritten."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from contracts import topics
from services.core.embedded import free_port
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.faults import committed_offsets
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def start_holding_writes(env: dict[str, str], log: Path, *, seconds: float) -> subprocess.Popen:
    """A presale replica that publishes each batch's outputs, then writes its state
    `seconds` later."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.role_replica", "presale", "--slow-write",
             str(seconds)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def committed_past(stack, settings, record) -> bool:
    done = await committed_offsets(stack.broker.bootstrap, settings.group_id("presale"),
                                   record.topic)
    return done.get(record.partition, 0) > record.offset


def of_shop(shop: str):
    return lambda body, _record: body.get("shop_id") == shop


async def test_a_replica_woken_after_losing_its_partitions_writes_nothing(stack, kafka, tmp_path):
    settings = stack.settings(policy_file=r.write_policy(tmp_path, r.THREE_SECONDS),
                              consumer_session_timeout_ms=3000)  # the zombie is expelled sooner
    port, log = free_port(), tmp_path / "zombie.log"
    env = r.replica_env(settings.model_copy(update={"http_port": port, "log_format": "json"}))
    shop, answered, control = unique("shop"), unique("ok"), unique("control")
    zombie = start_holding_writes(env, log, seconds=5)
    try:
        started = await wait_until(lambda: zombie.poll() is not None or r.ready(port), timeout=60)
        assert started and zombie.poll() is None, log.read_text()[-3000:]
        t0 = r.now()
        await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, answered, at=t0), answered)
        # its assignment is out: the batch is decided and published, its write is held
        await kafka.collect(topics.ASSIGNMENTS, of_shop(shop), count=1, timeout=30)
        zombie.send_signal(signal.SIGSTOP)
        producer = await kafka.producer()
        reply = await (await producer.send(
            topics.ROLE_PRESALE, orjson.dumps(r.agent_says(shop, answered, at=t0 + timedelta(
                seconds=1))), key=answered.encode()))
        async with running("presale", settings):
            # the survivor took the partition over (the zombie was expelled) and committed
            # past the reply: the answered conversation's clock is stopped
            assert await wait_until(lambda: committed_past(stack, settings, reply), timeout=60)
            zombie.send_signal(signal.SIGCONT)  # its held write runs now
            assert await wait_until(lambda: r.ready(port), timeout=60), "the zombie rejoined"
            # a control conversation on the answered one's key, so on its partition and timer
            # shard: its breach fires no earlier than a reopened clock of the answered one
            await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, control, at=r.now()), answered)
            seen = await kafka.collect(
                topics.ESCALATIONS,
                lambda b, rec: of_shop(shop)(b, rec) and b["state"] == "breached",
                count=2, timeout=30, settle=1.0)
    finally:
        if zombie.poll() is None:
            zombie.send_signal(signal.SIGCONT)
            zombie.kill()
            zombie.wait(timeout=10)
    breached = sorted({(b["subject"]["id"], b["level"]) for b, _ in seen})
    assert (control, 2) in breached, "the control conversation breached"
    assert not [c for c, _ in breached if c == answered], \
        f"a false breach of the conversation answered in time: {breached}"
