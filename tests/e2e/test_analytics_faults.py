"""Faults that try to make the analytics service count an event twice or lose one; each
time the scripted week's report is still the hand-computed one
(tests/e2e/analytics_expected.py).

- SIGKILLed mid-stream and restarted, twice: a real `kefu run analytics` child on the
  embedded chDB store, restarted on the same data directory. A batch inserted but not
  committed when the process died is read again and counts once, and the store opens
  again after a crash.
- Redis down, or refusing writes, while half the week arrives: the memos cannot be
  saved, so nothing is committed until Redis is back, then nothing is missing."""

from __future__ import annotations

from datetime import datetime

import aiohttp
import orjson
import pytest

from benchmarks.common.procs import metrics, summed
from tests.conftest import unique
from tests.e2e import analytics_expected as x
from tests.e2e.analytics_expected import assert_week, week_params
from tests.support.analytics_script import scripted_week
from tests.support.analytics_week import TZ, Week, past_monday
from tests.support.faults import ends_of, group_committed_through, transient_retries
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess
from tests.support.redis_faults import redis_fault
from tests.support.services import all_handled, running

pytestmark = pytest.mark.e2e

ADMIN = "crash-admin-secret"
BATCH = 4
"""Records per analytics batch: the week's 81 records are ~20 batches, each inserted and
committed on its own, so a kill is likely to land between an insert and its commit (a
trial run: 12 records handled, 8 committed, at the first kill)."""
RETRIED = ("handle", "after_ack")
"""The steps a memo that cannot be read or saved retries (analytics publishes nothing
but dead letters)."""
KILL_AFTER = 12
"""Records a process has handled (its `kefu_events_in_total`) when it is killed."""


async def handled(http: aiohttp.ClientSession, process: ServiceProcess) -> float:
    """The records `process` has read (valid or dead-lettered) so far."""
    try:
        return summed(await metrics(http, process), "kefu_events_in_total")
    except aiohttp.ClientError:
        return 0.0


def committed_through(stack, settings, ends: dict[tuple[str, int], int]):
    """A predicate: the analytics group has committed up to `ends` on every partition."""
    return lambda: group_committed_through(stack.broker.bootstrap,
                                           settings.group_id("analytics"), ends)


async def test_sigkill_mid_stream_counts_every_event_once(stack, kafka, tmp_path):
    week = scripted_week(Week(past_monday(datetime.now(TZ).date())))
    policy = tmp_path / "policy.yaml"
    policy.write_text(week.policy(), encoding="utf-8")
    settings = stack.settings(policy_file=policy)
    env = {"KEFU_ANALYTICS_DATA_DIR": str(tmp_path / "chdb"), "KEFU_ANALYTICS_TOKEN": ADMIN,
           "KEFU_ANALYTICS_RETENTION": "3650d", "KEFU_ANALYTICS_MAX_RECORDS": str(BATCH),
           "KEFU_ANALYTICS_FETCH_MAX_WAIT_MS": "50",
           "KEFU_TEST_ORACLE_TOKEN": "oracle", "KEFU_TEST_OTHER_TOKEN": "other"}
    producer, produced = await kafka.producer(), []
    size = -(-len(week.records) // 3)  # in order: each key's events stay in order
    thirds = [week.records[i:i + size] for i in range(0, len(week.records), size)]
    processes: list[ServiceProcess] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for third in thirds:
                process = ServiceProcess("analytics", settings, tmp_path, **env).start()
                processes.append(process)
                assert await process.ready(), "analytics did not become ready"
                for topic, key, body in third:
                    produced.append(await producer.send_and_wait(
                        topic, orjson.dumps(body), key=key.encode()))
                if third is thirds[-1]:
                    break

                async def busy(process=process) -> bool:
                    return await handled(http, process) >= KILL_AFTER

                assert await wait_until(busy, timeout=60, interval=0.05), "nothing handled"
                process.kill()
            committed = committed_through(stack, settings, ends_of(produced))
            assert await wait_until(committed, timeout=90, interval=0.3), "input left over"
            async with http.get(f"http://127.0.0.1:{processes[-1].port}/api/v1/report",
                                params=week_params(week, by="role"),
                                headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
                assert resp.status == 200, await resp.text()
                report = await resp.json()
    finally:
        for process in processes[:-1]:
            process.kill()
        if processes:
            assert processes[-1].terminate() == 0, "a graceful stop exits 0"

    assert len(processes) == 3 and all(p.proc.returncode == -9 for p in processes[:-1])
    assert_week(report, week)
    assert report["groups"] == [pytest.approx(g, abs=1e-3) for g in x.BY_ROLE]


@pytest.mark.parametrize("fault", ["down", "refusing_writes"])
async def test_redis_down_or_refusing_writes_commits_nothing_and_loses_nothing(
        stack, kafka, chdb_dir, tmp_path, monkeypatch, fault):
    """The memos (open rounds, running clocks) cannot be saved: the batch is retried, not
    committed, and once Redis is back the week is exactly what it would have been."""
    week = scripted_week(Week(past_monday(datetime.now(TZ).date())))
    policy = tmp_path / "policy.yaml"
    policy.write_text(week.policy(), encoding="utf-8")
    monkeypatch.setenv("KEFU_TEST_ORACLE_TOKEN", "oracle")
    monkeypatch.setenv("KEFU_TEST_OTHER_TOKEN", "other")
    settings = stack.settings(policy_file=policy, analytics_data_dir=chdb_dir,
                              analytics_database=unique("faults").replace("-", "_"),
                              analytics_token=ADMIN, analytics_retention="3650d",
                              analytics_max_records=BATCH, analytics_fetch_max_wait_ms=50)
    half = len(week.records) // 2
    trouble, producer = redis_fault(fault, stack), await kafka.producer()

    async def produce(records) -> list:
        return [await producer.send_and_wait(topic, orjson.dumps(body), key=key.encode())
                for topic, key, body in records]

    async with running("analytics", settings) as app:
        await produce(week.records[:half])
        assert await all_handled(app, half), "the first half was not ingested"
        before = transient_retries(app, RETRIED)
        await trouble.begin()
        try:
            committed = committed_through(stack, settings, ends_of(
                await produce(week.records[half:])))
            tried = await wait_until(lambda: transient_retries(app, RETRIED) > before, timeout=30)
            assert tried, "never tried"
            assert not await wait_until(committed, timeout=5), f"committed with Redis {fault}"
        finally:
            await trouble.end()
        assert await wait_until(committed, timeout=60), "not committed once Redis was back"
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{settings.http_port}/api/v1/report",
                params=week_params(week, by="role"),
                headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
            assert resp.status == 200, await resp.text()
            report = await resp.json()
    assert_week(report, week)
    assert report["groups"] == [pytest.approx(g, abs=1e-3) for g in x.BY_ROLE]
