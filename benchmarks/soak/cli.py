"""Entry points: the attached runner, main_from_args and the `python -m` main."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from typing import Any

import orjson
from aiokafka.errors import KafkaError

from benchmarks.soak.chaos.verdict import broken
from benchmarks.soak.console import say
from benchmarks.soak.embedded import run_embedded
from benchmarks.soak.loopback import check_loopback
from benchmarks.soak.runner import Soak
from benchmarks.soak.summary import format_summary
from benchmarks.soak.targets import discover


async def run_attached(args: argparse.Namespace, run_id: str) -> dict[str, Any]:
    targets = await discover(args.metrics)
    soak = Soak(args, bootstrap=args.bootstrap, redis_url=args.redis_url, targets=targets,
                run_id=run_id)
    return await soak.run({"soak": os.getpid()})


def main_from_args(args: argparse.Namespace) -> int:
    if not args.embedded:
        bad = check_loopback(args.bootstrap, args.redis_url, args.metrics)
        if bad:
            print(f"kefu: soak sends to loopback (127.0.0.1) only, not to: {', '.join(bad)}",
                  file=sys.stderr)
            return 2
    if args.chaos and (problem := chaos_misuse(args)):
        print(f"kefu: soak --chaos {problem}", file=sys.stderr)
        return 2
    if args.shops is not None and args.shops < 1 or args.agents < 1:
        print("kefu: --shops and --agents must be at least 1", file=sys.stderr)
        return 2
    run_id = uuid.uuid4().hex[:6]
    runner = run_embedded if args.embedded else run_attached
    try:
        report = asyncio.run(runner(args, run_id))
    except KeyboardInterrupt:
        return 130
    except (RuntimeError, OSError, KafkaError) as exc:
        print(f"kefu: soak failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(format_summary(report), flush=True)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        say(f"report written to {args.report}")
    violations = broken(report)
    for violation in violations:
        print(f"kefu: soak invariant broken: {violation}", file=sys.stderr)
    return 1 if violations else 0


def chaos_misuse(args: argparse.Namespace) -> str | None:
    """Why --chaos cannot run with these arguments, or None."""
    if not args.embedded:
        return ("needs --embedded: it kills and restarts processes, and does so only to the "
                "stack the soak started itself")
    if args.policy is not None:
        return "brings its own policy (webhooks to the soak's receiver): drop --policy"
    if args.pause:
        return "draws its own pauses: drop --pause"
    return None


def main(argv: list[str] | None = None) -> int:
    from benchmarks import soak as package
    from services.cli.soak_cmd import add_arguments

    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak",
                                     description=(package.__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    return main_from_args(parser.parse_args(argv))
