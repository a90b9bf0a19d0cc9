"""Running the soak against an own embedded stack (broker, Redis, services)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.soak.chaos.run import ChaosRun
from benchmarks.soak.chaos.verdict import broken
from benchmarks.soak.console import say
from benchmarks.soak.runner import Soak
from benchmarks.soak.sla_check import ROUND_THE_CLOCK
from benchmarks.soak.targets import Target


async def run_embedded(args: argparse.Namespace, run_id: str) -> dict[str, Any]:
    from contracts.topics import ALL_TOPICS
    from services.cli.local_stack import LocalStack
    from services.cli.services import available_services
    from services.core.kafka import create_topics
    from services.core.settings import Settings

    temp = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-soak-")) if temp else args.data_dir
    chaos = await _chaos_of(args, run_id)
    if chaos is not None:
        args.policy = chaos.write_policy(data_dir)
    elif args.policy is None:  # business time around the clock: every escalation is checked
        args.policy = data_dir / "soak-policy.yaml"
        args.policy.parent.mkdir(parents=True, exist_ok=True)
        args.policy.write_text(ROUND_THE_CLOCK, encoding="utf-8")
    options = chaos.stack_options() if chaos else {"services": available_services()}
    stack = LocalStack(data_dir=data_dir, policy_file=args.policy, partitions=args.partitions,
                       **options)
    clean = False
    report: dict[str, Any] = {}
    try:
        stack.start_servers()
        settings = Settings(kafka_bootstrap=stack.broker.bootstrap, redis_url=stack.redis.url)
        await create_topics(settings, list(ALL_TOPICS), partitions=args.partitions)
        stack.start_services()
        say(f"embedded stack in {data_dir}: broker {stack.broker.bootstrap}, redis "
            f"127.0.0.1:{stack.redis.port}; waiting for {', '.join(stack.services)} ...")
        dead = await stack.wait_ready()
        if dead:
            raise RuntimeError("; ".join(f"{c.service} exited ({c.proc.returncode}), see "
                                         f"{c.log_path}" for c in dead))
        targets = [Target(c.name, f"http://127.0.0.1:{c.http_port}", c.proc.pid)
                   for c in stack.children]
        extra = {"broker": stack.broker.proc.pid, "redis": stack.redis.proc.pid,
                 "soak": os.getpid()}
        if chaos is not None:
            chaos.attach(stack, targets, extra)
        soak = Soak(args, bootstrap=stack.broker.bootstrap, redis_url=stack.redis.url,
                    targets=targets, run_id=run_id, chaos=chaos)
        report = await soak.run(extra)
        died = stack.dead_children()
        clean = not died and not broken(report)
        return report
    finally:
        await asyncio.to_thread(stack.stop)
        if chaos is not None:
            await chaos.receiver.stop()
        if report:
            for child in stack.children:
                entry = report["services"].get(child.name)
                if entry is not None:
                    entry["exit_code_on_sigterm"] = child.proc.returncode
            report["config"]["data_dir"] = None if temp and clean else str(data_dir)
        if temp and clean:
            shutil.rmtree(data_dir, ignore_errors=True)
        elif temp:
            say(f"logs kept in {data_dir / 'logs'}")


async def _chaos_of(args: argparse.Namespace, run_id: str) -> ChaosRun | None:
    if not args.chaos:
        return None
    return ChaosRun(seed=args.seed, seconds=args.minutes * 60, marker=f"-{run_id}-",
                    receiver=await ChaosRun.new_receiver())
