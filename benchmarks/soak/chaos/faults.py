"""Running a fault plan against the soak's embedded stack, one fault at a time, each
undone before the next (a killed replica is restarted and ready again, a stopped one
continued, Redis back with its old limits). Every fault is logged to stderr and kept."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis

from benchmarks.soak.chaos.plan import (
    BROKER_RESTART,
    BROKER_SKIP_REASON,
    KILL,
    REDIS_REFUSE_WRITES,
    REDIS_RESTART,
    STOP,
    Fault,
)
from benchmarks.soak.console import say

READY_TIMEOUT = 120.0
TINY_MAXMEMORY = "1"  # bytes: with noeviction every write is refused (OOM)


class FaultRunner:
    def __init__(self, plan: list[Fault], stack, targets, extra_pids: dict[str, int]) -> None:
        """`stack`: the LocalStack; `targets`: the soak's Targets (their pids follow
        restarts); `extra_pids`: the soak's other processes (Redis's pid follows too)."""
        self.plan, self.stack, self.extra_pids = plan, stack, extra_pids
        self.children = {c.name: c for c in stack.children}
        self.targets = {t.name: t for t in targets}
        self.log: list[dict[str, Any]] = []
        self.stopping = asyncio.Event()
        self.active = False

    async def run(self, t0: float) -> None:
        """Apply the plan; `t0` is the loop time of the run's start. Returns when the
        plan is done or `stopping` is set (the fault in progress is undone first)."""
        loop = asyncio.get_running_loop()
        apply = {KILL: self._kill, STOP: self._stop, REDIS_RESTART: self._redis_restart,
                 REDIS_REFUSE_WRITES: self._redis_refuse_writes,
                 BROKER_RESTART: self._broker_restart}
        for fault in self.plan:
            if await self._wait(t0 + fault.at - loop.time()):
                return
            started = loop.time()
            entry = {"at": round(started - t0, 1), "fault": fault.kind, "target": fault.target,
                     "pid": None, "planned_seconds": fault.seconds, "wall_start": time.time()}
            self.active = True
            try:
                await apply[fault.kind](fault, entry)
            except Exception as exc:  # noqa: BLE001 - a failed fault is logged, the run goes on
                entry["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                self.active = False
                entry["duration"] = round(loop.time() - started, 1)
                self.log.append(entry)
                say("chaos " + describe(entry))

    async def _wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the run is stopping."""
        try:
            await asyncio.wait_for(self.stopping.wait(), max(0.0, seconds))
        except TimeoutError:
            return False
        return True

    async def _kill(self, fault: Fault, entry: dict[str, Any]) -> None:
        child = self.children[fault.target]
        entry["pid"] = await self._sigkill(child)
        await self._wait(fault.seconds)
        await self._restart(child, entry)

    async def _sigkill(self, child) -> int:
        pid = child.proc.pid
        os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(child.proc.wait)
        return pid

    async def _restart(self, child, entry: dict[str, Any]) -> None:
        self.stack.restart(child)
        entry["new_pid"] = self.targets[child.name].pid = child.proc.pid
        entry["ready_after_s"] = await _ready_after(child)

    async def _stop(self, fault: Fault, entry: dict[str, Any]) -> None:
        pid = entry["pid"] = self.children[fault.target].proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            await self._wait(fault.seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    async def _redis_restart(self, fault: Fault, entry: dict[str, Any]) -> None:
        redis = self.stack.redis
        entry["pid"] = redis.proc.pid
        await asyncio.to_thread(redis.stop)
        await self._wait(fault.seconds)
        await asyncio.to_thread(redis.start)
        entry["new_pid"] = self.extra_pids["redis"] = redis.proc.pid

    async def _redis_refuse_writes(self, fault: Fault, entry: dict[str, Any]) -> None:
        entry["pid"] = self.stack.redis.proc.pid
        client = Redis.from_url(self.stack.redis.url, socket_timeout=5)
        try:
            before = {**await client.config_get("maxmemory"),
                      **await client.config_get("maxmemory-policy")}
            entry["restored"] = before
            await client.config_set("maxmemory-policy", "noeviction")
            await client.config_set("maxmemory", TINY_MAXMEMORY)
            killed = None
            try:
                if fault.also_kill is None:
                    await self._wait(fault.seconds)
                else:  # a replica dies while its writes are refused
                    await self._wait(fault.seconds / 2)
                    killed = self.children[fault.also_kill]
                    entry["killed"] = {"target": killed.name, "wall": time.time(),
                                       "pid": await self._sigkill(killed)}
                    await self._wait(fault.seconds / 2)
            finally:
                await client.config_set("maxmemory", before["maxmemory"])
                await client.config_set("maxmemory-policy", before["maxmemory-policy"])
        finally:
            await client.aclose()
        if killed is not None:
            await self._restart(killed, entry["killed"])

    async def _broker_restart(self, fault: Fault, entry: dict[str, Any]) -> None:
        entry["pid"] = self.stack.broker.proc.pid
        entry["skipped"] = BROKER_SKIP_REASON


async def _ready_after(child) -> float:
    """Seconds until a restarted child answers /readyz with 200."""
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() - started < READY_TIMEOUT:
            if child.proc.poll() is not None:
                raise RuntimeError(f"{child.name} exited ({child.proc.returncode}) on restart")
            try:
                async with http.get(child.ready_url) as resp:
                    if resp.status == 200:
                        return round(time.monotonic() - started, 1)
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError(f"{child.name} not ready {READY_TIMEOUT:.0f} s after its restart")


def describe(entry: dict[str, Any]) -> str:
    """One fault log line: offset, fault, target, pid, duration, outcome."""
    line = (f"t={entry['at']:.0f}s {entry['fault']} {entry['target']} (pid {entry['pid']}) "
            f"for {entry['duration']:.1f} s")
    if "killed" in entry:
        killed = entry["killed"]
        line += f"; SIGKILLed {killed['target']} (pid {killed['pid']}) halfway"
        if "new_pid" in killed:
            line += f", back as pid {killed['new_pid']}"
    if "new_pid" in entry:
        line += f"; back as pid {entry['new_pid']}"
    if "ready_after_s" in entry:
        line += f", ready {entry['ready_after_s']:.1f} s after its restart"
    if "skipped" in entry:
        line += f"; SKIPPED: {entry['skipped']}"
    if "error" in entry:
        line += f"; ERROR: {entry['error']}"
    return line
