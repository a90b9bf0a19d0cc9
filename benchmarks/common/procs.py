"""kefu services as child processes of a benchmark: start, wait until ready, read their
CPU time, peak RSS and /metrics, freeze and thaw them, profile them."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from benchmarks.common.text import say
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port

REPO = Path(__file__).resolve().parents[2]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (a busy machine slows a process down, but
    hardly changes how much CPU it needs per event)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class ServiceProc:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def check_alive(services: list[ServiceProc]) -> None:
    for r in services:
        if r.proc.poll() is not None:
            raise RuntimeError(f"{r.log.stem} exited with {r.proc.returncode}; see {r.log}:\n"
                               + r.log.read_text()[-2000:])


def start_service(service: str, broker: EmbeddedBroker, redis: EmbeddedRedis,
                  group_prefix: str, workdir: Path, index: int, session_timeout_ms: int,
                  **env_extra: str) -> ServiceProc:
    """`kefu run SERVICE` against the embedded stack, its log under `workdir`."""
    port = free_port()
    env = dict(os.environ)
    env.update({
        "KEFU_KAFKA_BOOTSTRAP": broker.bootstrap, "KEFU_REDIS_URL": redis.url,
        "KEFU_HTTP_PORT": str(port), "KEFU_GROUP_PREFIX": group_prefix,
        "KEFU_LOG_LEVEL": "WARNING", "KEFU_LOG_FORMAT": "json", **env_extra,
    })
    if session_timeout_ms > 10_000:  # longer than the default: slower group joins on Tansu
        env["KEFU_CONSUMER_SESSION_TIMEOUT_MS"] = str(session_timeout_ms)
    log = workdir / f"{group_prefix}-{service}-{index}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.cli.main", "run", service],
                                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return ServiceProc(proc, port, log)


async def wait_ready(session: aiohttp.ClientSession, services: list[ServiceProc],
                     timeout: float) -> float:
    """Seconds until every service answered /readyz 200."""
    started = time.monotonic()
    pending = list(services)
    while pending:
        check_alive(services)
        for r in list(pending):
            try:
                async with session.get(f"http://127.0.0.1:{r.port}/readyz") as resp:
                    if resp.status == 200:
                        pending.remove(r)
            except aiohttp.ClientError:
                pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"services not ready after {timeout:.0f}s; "
                               f"logs in {services[0].log.parent}")
        if pending:
            await asyncio.sleep(0.2)
    return time.monotonic() - started


async def metrics(session: aiohttp.ClientSession, service: ServiceProc) -> dict[str, float]:
    """The service's /metrics samples: `name{labels}` -> value."""
    async with session.get(f"http://127.0.0.1:{service.port}/metrics") as resp:
        text = await resp.text()
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def summed(samples: dict[str, float], name: str, *, without: str | None = None) -> float:
    """The sum of a metric's samples (all label sets), leaving out those containing
    `without`."""
    return sum(v for k, v in samples.items()
               if (k == name or k.startswith(name + "{")) and (without is None or without
                                                                 not in k))


def start_py_spy(pid: int, out: str) -> subprocess.Popen:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = "speedscope" if out.endswith(".json") else "raw" if out.endswith(".txt") else "flamegraph"
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "250", "--nonblocking",
                             "--format", fmt, "--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


@contextmanager
def embedded_stack(prefix: str) -> Iterator[tuple[EmbeddedBroker, EmbeddedRedis, Path]]:
    """A fresh broker and Redis on free ports; their logs stay in a temporary folder,
    kept (and named) only when the benchmark fails."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    broker = EmbeddedBroker(port=free_port(), log_path=workdir / "broker.log")
    redis = EmbeddedRedis(port=free_port(), data_dir=workdir / "valkey",
                          log_path=workdir / "redis.log")
    broker.start()
    redis.start()
    failed = False
    try:
        yield broker, redis, workdir
    except BaseException:
        failed = True
        say(f"benchmark failed; logs kept in {workdir}")
        raise
    finally:
        broker.stop()
        redis.stop()
        if not failed:
            shutil.rmtree(workdir, ignore_errors=True)
