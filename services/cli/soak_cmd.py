"""`kefu soak`: realistic traffic at a fixed rate against a running stack (or its own
embedded one), with a report every ~10 s and at the end. The work is done by
`benchmarks/soak/`, which ships with a source checkout, not with the wheel."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "soak",
        help="run realistic traffic at a fixed rate and report lag, latency, RSS, loss",
        description="Produce a realistic mix of inbound events (buyer messages in Chinese and "
        "English, agent replies and status, orders, logistics, after-sale, reviews) into "
        "kefu.inbound at RATE events/s for M minutes, then drain. Every ~10 s and at the end "
        "it reports consumer lag per service (from /metrics), end-to-end latency (produce -> "
        "output on kefu.role.* / kefu.orders), escalation lateness, RSS per service process, "
        "Redis memory, and lost and duplicated outputs. Loopback (127.0.0.1) only.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


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


def run(args: argparse.Namespace) -> int:
    checkout = Path(__file__).resolve().parents[2]  # an editable install runs from the source
    if (checkout / "benchmarks" / "soak").is_dir() and str(checkout) not in sys.path:
        sys.path.append(str(checkout))
    try:
        from benchmarks import soak
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", "benchmarks.soak"):
            raise
        print("kefu: soak needs a source checkout (benchmarks/soak/ is not in the wheel); "
              "run it from the repository", file=sys.stderr)
        return 2
    return soak.main_from_args(args)


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
