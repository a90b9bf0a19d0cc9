"""Two pre-sale replicas share the consumer group and the timer store; one is SIGKILLed
while timers fire. Every due timer still fires, and each cause keeps one escalation_id:
repeats of the same id are allowed (at-least-once), two ids for one cause never."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from contracts import topics
from services.core.embedded import free_port
from services.core.settings import Settings
from services.core.timers.partitioned import PartitionTimers
from tests.conftest import TEST_PARTITIONS, unique
from tests.e2e import role_replica as r
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
WAVE = 40  # conversations per wave, three timers each


def start_replica(env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.role_replica", "presale", "--slow-fire", "1"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


async def victim_in_flight(service, pid: int) -> int:
    """How many in-flight timers the process `pid` owns (tokens name the owner)."""
    timers = PartitionTimers(service.redis, "presale")
    pipe = service.redis.pipeline(transaction=False)
    for shard in (f"{topic}:{p}" for topic in (topics.ROLE_PRESALE, topics.ORDERS)
                  for p in range(TEST_PARTITIONS)):
        pipe.hvals(timers.keys(shard).owner)
    owners = [v for values in await pipe.execute() for v in values]
    return sum(f"-{pid}-".encode() in v for v in owners)


async def escalations_published(port: int) -> bool:
    """The replica on `port` has published escalations (its /metrics say so)."""
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    return any(line.startswith(f'kefu_events_out_total{{topic="{topics.ESCALATIONS}"}}')
               and float(line.rsplit(" ", 1)[1]) > 0 for line in text.splitlines())


async def send_wave(kafka, shop: str, spread: float) -> list[str]:
    convs, t0 = [unique("c") for _ in range(WAVE)], r.now()
    for i, conv in enumerate(convs):
        at = t0 + timedelta(seconds=spread * i / WAVE)
        await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, conv, buyer_id=conv, at=at), conv)
    return convs


async def test_sigkill_while_timers_fire_loses_none_and_never_forks_an_id(stack, kafka, tmp_path):
    policy = r.write_policy(tmp_path)
    base = stack.settings(policy_file=policy,  # the killed replica is expelled sooner
                          consumer_session_timeout_ms=3000).model_dump()
    settings = Settings(**{**base, "timer_lease": timedelta(seconds=2),
                               "timer_poll_interval": timedelta(milliseconds=50)})
    victim_port = free_port()
    victim_env = r.replica_env(settings.model_copy(update={"http_port": victim_port,
                                                         "log_format": "json"}))
    shop = unique("shop")
    async with running("presale", settings) as survivor:
        victim = start_replica(victim_env, tmp_path / "victim.log")
        try:
            started = await wait_until(
                lambda: victim.poll() is not None or r.ready(victim_port), timeout=60)
            assert started and victim.poll() is None, (tmp_path / "victim.log").read_text()[-3000:]
            assert await wait_until(lambda: all(t.joined for t in survivor.trackers), timeout=30)
            first = await send_wave(kafka, shop, spread=2.0)
            owns = await wait_until(lambda: victim_in_flight(survivor, victim.pid), timeout=20,
                                    interval=0.02)
            assert owns, "the victim never held an in-flight timer"
            # inside its 1 s hold: escalations published, timers not yet acked
            assert await wait_until(lambda: escalations_published(victim_port), timeout=20,
                                    interval=0.02), "the victim never published"
            victim.send_signal(signal.SIGSTOP)  # frozen: it claims nothing more
            held = await victim_in_flight(survivor, victim.pid)
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            # some of these land on the dead replica's partitions: the survivor takes them over
            second = await send_wave(kafka, shop, spread=0.5)
        finally:
            if victim.poll() is None:
                victim.kill()
                victim.wait(timeout=10)
        expected = {(c, level) for c in first + second for level in (1, 2, 3)}
        bodies, causes = [], set()

        def first_of_cause(body, _record) -> bool:
            """Keep every escalation of the shop; count each cause once."""
            if body.get("shop_id") != shop:
                return False
            bodies.append(body)
            cause = (body["subject"]["id"], body["level"])
            new = cause not in causes
            causes.add(cause)
            return new

        # every cause seen, then a while longer: the reaper re-fires the victim's timers
        await kafka.collect(topics.ESCALATIONS, first_of_cause, count=len(expected), timeout=45,
                            settle=3.0)
    ids_per_cause: dict[tuple, set[str]] = defaultdict(set)
    for b in bodies:
        cause = (b["subject"]["id"], b["sla"], b["state"], b["level"])
        ids_per_cause[cause].add(b["escalation_id"])
    assert {(conv, level) for conv, _, _, level in ids_per_cause} == expected, "a timer was lost"
    assert all(len(ids) == 1 for ids in ids_per_cause.values()), "one cause, two ids"
    counts = Counter(b["escalation_id"] for b in bodies)
    assert len(counts) == len(expected)
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= held, f"{repeats} repeats; the victim held only {held} fired timers"
    print(f"\n{len(counts)} distinct escalations, {repeats} repeats of the same id "
          f"(the victim held {held})")
