"""Entry points: the arguments, the attached runner, main_from_args and the `python -m`
main. The soak is a development tool of the source checkout, not a `kefu` command: the
wheel and the image leave `benchmarks/` out."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path
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


DESCRIPTION = (
    "Run realistic traffic at a fixed rate and report lag, latency, RSS, loss. Produce a "
    "realistic mix of inbound events (buyer messages in Chinese and English, agent replies "
    "and status, orders, logistics, after-sale, reviews) into kefu.inbound at RATE events/s "
    "for M minutes, then drain. Every ~10 s and at the end it reports consumer lag per "
    "service (from /metrics), end-to-end latency (produce -> output on kefu.role.* / "
    "kefu.orders), escalation lateness, RSS per service process, Redis memory, and lost and "
    "duplicated outputs. Loopback (127.0.0.1) only."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    return main_from_args(build_parser().parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=_positive_float, required=True, metavar="EVENTS_PER_S",
                        help="inbound events per second")
    parser.add_argument("--minutes", type=_positive_float, required=True, metavar="M",
                        help="how long to send (the drain comes on top)")
    parser.add_argument("--embedded", action="store_true",
                        help="start an own embedded broker, Redis and every available service "
                             "(as `kefu up --no-demo` does) and stop them at the end")
    parser.add_argument("--bootstrap", default=os.environ.get("KEFU_KAFKA_BOOTSTRAP",
                                                              "127.0.0.1:9092"),
                        help="Kafka of a running stack (default $KEFU_KAFKA_BOOTSTRAP)")
    parser.add_argument("--redis-url", default=os.environ.get("KEFU_REDIS_URL"),
                        help="Redis of a running stack, for memory and key stats "
                             "(default $KEFU_REDIS_URL; none: no Redis stats)")
    parser.add_argument("--metrics", nargs="+", default=[], metavar="[NAME=]URL",
                        help="service HTTP bases, e.g. http://127.0.0.1:8081 (the name comes "
                             "from /healthz when omitted; default: probe 127.0.0.1:8081-8084)")
    parser.add_argument("--report", type=Path, metavar="FILE.json",
                        help="also write the full report as JSON")
    parser.add_argument("--drain", type=_positive_float, default=60.0, metavar="S",
                        help="after sending, wait at most S seconds for missing outputs and "
                             "for every service's lag to reach 0 (default 60, at most 600)")
    parser.add_argument("--interval", type=_positive_float, default=10.0, metavar="S",
                        help="seconds between progress lines (default 10)")
    parser.add_argument("--shops", type=int, default=None,
                        help="shops in the traffic (default: rate/4, at least 10)")
    parser.add_argument("--agents", type=int, default=20, help="agents per shop (default 20)")
    parser.add_argument("--seed", type=int, default=2026,
                        help="traffic seed, and the fault plan's with --chaos (default 2026)")
    parser.add_argument("--linger-ms", type=_milliseconds, default=5, metavar="MS",
                        help="how long the traffic's producer waits to fill a batch (default "
                             "5; a high-volume integrator lingers longer, and the embedded "
                             "broker's cost per fetch grows with the batches it stores)")
    parser.add_argument("--partitions", type=int, default=3,
                        help="--embedded only: partitions per topic (default 3, like kefu up)")
    parser.add_argument("--policy", type=Path,
                        help="the stack's policy YAML file (--embedded: used by its services; "
                             "default: the built-in SLAs around the clock). The SLA check "
                             "needs business time around the clock")
    parser.add_argument("--pause", action="append", type=_pause, metavar="SERVICE:S@AT",
                        help="--embedded: SIGSTOP every process of SERVICE for S seconds, AT "
                             "seconds into the run (e.g. presale:30@300); repeatable")
    parser.add_argument("--chaos", action="store_true",
                        help="--embedded only: two replicas of each consuming service; while "
                             "sending, SIGKILL/SIGSTOP random replicas, restart Redis and make "
                             "it refuse writes (seeded by --seed); webhooks go to an own "
                             "receiver; at the end check the invariants (routed once, ids "
                             "unique or explained, true breaches once, webhooks acted on "
                             "once) and exit 1 when one breaks")
    parser.add_argument("--data-dir", type=Path,
                        help="--embedded only: logs and Redis data (default: a temporary "
                             "directory, removed after a clean run)")


def _pause(text: str) -> tuple[str, float, float]:
    """`SERVICE:SECONDS@AT` -> (service, seconds, at)."""
    try:
        service, rest = text.split(":", 1)
        seconds, at = (float(v) for v in rest.split("@", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not SERVICE:SECONDS@AT (e.g. presale:30@300): {text!r}") from None
    if not service or seconds <= 0 or at < 0:
        raise argparse.ArgumentTypeError(f"a pause needs a service and positive times: {text!r}")
    return service, seconds, at


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _milliseconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of milliseconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value
