"""`kefu up`: the whole system on the embedded stack, with a demo feed."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from services.core.waiting import wait_event


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run the whole system on the embedded broker and Redis",
        description="Start the embedded Kafka-compatible broker and Redis-compatible server, "
        "create the topics, start every service and a demo feed. Ctrl-C stops everything.",
    )
    parser.add_argument("--policy", type=Path, help="policy YAML file (default: built-ins)")
    parser.add_argument("--no-demo", action="store_true", help="do not start the demo feed")
    parser.add_argument("--kafka-port", type=int, help="broker port (default: a free one)")
    parser.add_argument("--redis-port", type=int, help="Redis port (default: a free one)")
    parser.add_argument("--partitions", type=int, default=3, help="partitions per topic")
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var"), help="logs and Redis data (default ./var)"
    )
    parser.add_argument(
        "--demo-speed",
        type=float,
        default=60.0,
        help="demo time compression: shop seconds per real second",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.policy is not None:
        from services.core.policy import PolicyError, load_policy

        try:
            load_policy(args.policy)
        except PolicyError as exc:
            print(f"kefu: {exc}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(_up(args))
    except KeyboardInterrupt:
        return 0


async def _up(args: argparse.Namespace) -> int:
    from contracts.topics import ALL_TOPICS
    from services.cli.local_stack import LocalStack
    from services.cli.services import available_services
    from services.core.kafka import create_topics
    from services.core.settings import Settings

    stack = LocalStack(
        data_dir=args.data_dir,
        services=available_services(),
        policy_file=args.policy,
        kafka_port=args.kafka_port,
        redis_port=args.redis_port,
        partitions=args.partitions,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    demo_task: asyncio.Task | None = None
    try:
        stack.start_servers()
        settings = Settings(kafka_bootstrap=stack.broker.bootstrap, redis_url=stack.redis.url)
        await create_topics(settings, list(ALL_TOPICS), partitions=args.partitions)
        login = await _demo_supervisor(stack) if "console" in stack.ports else None
        stack.start_services()
        stack.write_analytics_api()
        stack.write_console_file()
        _print_layout(stack, login)
        dead = await stack.wait_ready()
        if dead:
            for child in dead:
                print(
                    f"kefu: {child.service} exited ({child.proc.returncode}); see {child.log_path}",
                    file=sys.stderr,
                )
            return 1
        if not args.no_demo:
            from services.demo.feed import run_feed

            demo_task = asyncio.create_task(
                run_feed(settings, speed=args.demo_speed, stopping=stopping)
            )
        print("kefu is ready", flush=True)
        while not stopping.is_set():
            dead = stack.dead_children()
            if dead:
                for child in dead:
                    print(
                        f"kefu: {child.service} died ({child.proc.returncode}); "
                        f"see {child.log_path}",
                        file=sys.stderr,
                    )
                return 1
            if demo_task is not None and demo_task.done():
                _report_demo_end(demo_task)
                demo_task = None
            await wait_event(stopping, 1.0)
        return 0
    finally:
        print("kefu: stopping ...", flush=True)
        stopping.set()
        if demo_task is not None:
            await asyncio.wait([demo_task], timeout=5)
        await asyncio.to_thread(stack.stop)
        print("kefu: stopped", flush=True)


def _report_demo_end(task: asyncio.Task) -> None:
    """The services keep running when the demo feed ends; say why it ended."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        print(f"kefu: demo feed stopped: {error}", file=sys.stderr, flush=True)
    else:
        print(f"kefu: demo feed finished ({task.result()} events)", flush=True)


API_PATHS = {"gateway": "POST /v1/events, /openapi.json, "}
"""What a service serves besides /readyz and /metrics, said in the banner."""
DEMO_USER = "demo"


async def _demo_supervisor(stack) -> str:
    """A supervisor of the demo's shops with a fresh password each run, printed once."""
    from redis.asyncio import Redis

    from services.console.users import Users, new_password
    from services.demo.cast import SHOPS

    password = new_password()
    redis = Redis.from_url(stack.redis.url)
    try:
        await Users(redis).add(DEMO_USER, password, "supervisor", [s.shop_id for s in SHOPS])
    finally:
        await redis.aclose()
    return f"{DEMO_USER} / {password}"


def _print_layout(stack, login: str | None = None) -> None:
    print(f"broker    kafka://{stack.broker.bootstrap}   (log {stack.broker.log_path})")
    print(f"redis     {stack.redis.url}   (log {stack.redis.log_path})")
    for child in stack.children:
        print(
            f"{child.service:<10}http://127.0.0.1:{child.http_port}  "
            f"{API_PATHS.get(child.service, '')}/readyz /metrics   (log {child.log_path})"
        )
        if child.service == "analytics":
            print(f"{'':<10}http://127.0.0.1:{child.http_port}/api/v1/report?shop=shop-demo   "
                  f"(kefu report --shop shop-demo; token in {stack.data_dir}/analytics.json)")
        if child.service == "gateway":
            print(f"{'':<10}ingest secret {stack.ingest_secret}   (KEFU_INGEST_SECRET: signs "
                  "every shop without an ingest.secret_env)")
        if child.service == "console" and login:
            print(f"{'':<10}http://127.0.0.1:{child.http_port}/   supervisor console: log in as "
                  f"{login} (the demo's shops; more users: kefu users add)")
    print("waiting for services ...", flush=True)
