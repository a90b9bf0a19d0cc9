"""The analytics service SIGKILLed mid-stream and restarted, twice: a real `kefu run
analytics` child on the embedded chDB store, restarted on the same data directory. The
scripted week's report is still the hand-computed one (tests/e2e/analytics_expected.py):
a batch inserted but not committed when the process died is read again and counts once,
and the store opens again after a crash."""

from __future__ import annotations

from datetime import datetime

import aiohttp
import orjson
import pytest

from benchmarks.common.procs import metrics, summed
from contracts import topics
from tests.e2e import analytics_expected as x
from tests.e2e.analytics_expected import assert_week, week_params
from tests.support.analytics_script import scripted_week
from tests.support.analytics_week import TZ, Week, past_monday
from tests.support.faults import committed_offsets, ends_of
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

ADMIN = "crash-admin-secret"
BATCH = 4
"""Records per analytics batch: the week's 81 records are ~20 batches, each inserted and
committed on its own, so a kill lands between an insert and its commit."""
KILL_AFTER = 12
"""Records a process has handled (its `kefu_events_in_total`) when it is killed."""


async def handled(http: aiohttp.ClientSession, process: ServiceProcess) -> float:
    """The records `process` has read (valid or dead-lettered) so far."""
    try:
        return summed(await metrics(http, process), "kefu_events_in_total")
    except aiohttp.ClientError:
        return 0.0


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
    third = -(-len(week.records) // 3)
    thirds = [week.records[i:i + third] for i in range(0, len(week.records), third)]
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
            ends = ends_of(produced)
            group = settings.group_id("analytics")

            async def committed() -> bool:
                for topic in {t for t, _ in ends}:
                    done = await committed_offsets(stack.broker.bootstrap, group, topic)
                    if any(done.get(p, 0) < end for (t, p), end in ends.items() if t == topic):
                        return False
                return True

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
    assert topics.DLQ in {t for t, _ in ends}  # the dead letters of the week counted once too
