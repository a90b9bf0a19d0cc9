"""`kefu demo`: feed realistic shop stories into a running stack's `kefu.inbound`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="feed demo shop events into a running stack",
        description="Play a compressed shop hour of three shops (chats in 简体, 繁體 and English, "
        "orders, parcels, returns, a complaint, reviews) into kefu.inbound at "
        "KEFU_KAFKA_BOOTSTRAP, over and over with new ids. Ctrl-C stops.",
    )
    parser.add_argument(
        "--speed",
        type=_positive,
        default=60.0,
        help="shop seconds per real second (default 60: a shop hour a minute)",
    )
    parser.add_argument(
        "--duration", type=_positive, metavar="SECONDS", help="stop after this many real seconds"
    )
    parser.add_argument(
        "--seed", type=int, help="random seed: the same seed plays the same stories"
    )
    parser.add_argument("--once", action="store_true", help="play one shop hour, then stop")
    parser.add_argument(
        "--connect-timeout",
        type=_positive,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the broker (default 10)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from services.core.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"kefu: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    # aiokafka logs every failed connection attempt; the feed reports the outcome itself.
    kafka_log = logging.getLogger("aiokafka")
    level = kafka_log.level
    kafka_log.setLevel(logging.CRITICAL)
    try:
        return asyncio.run(_demo(args, settings))
    except KeyboardInterrupt:
        return 0
    finally:
        kafka_log.setLevel(level)


async def _demo(args: argparse.Namespace, settings) -> int:
    from aiokafka.errors import KafkaError

    from services.demo.feed import FeedError, run_feed

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stopping.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    try:
        await run_feed(
            settings,
            speed=args.speed,
            stopping=stopping,
            seed=args.seed,
            duration=args.duration,
            loop_forever=not args.once,
            log=lambda line: print(line, flush=True),
            connect_timeout=args.connect_timeout,
        )
    except FeedError as exc:
        print(f"kefu demo: {exc}", file=sys.stderr)
        return 1
    except KafkaError as exc:
        print(
            f"kefu demo: sending to Kafka at {settings.kafka_bootstrap} failed: {exc!r}",
            file=sys.stderr,
        )
        return 1
    return 0
