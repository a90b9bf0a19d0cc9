"""Not a test module: a TimerRunner in its own process, for the SIGKILL test.

    python -m tests.e2e.test_timers_worker REDIS_URL NAMESPACE LOG_PATH \
        [--batch N] [--lease S] [--hang-after K]

Appends "claim <id>" for every timer of a batch before firing it and "done <id>" after
`fire` returned; the batch number `--hang-after` (0-based) hangs in fire forever. The
prior batches were acked before the hung one was claimed (the loop is sequential)."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import TextIO

from redis.asyncio import Redis

from services.core.timers import ClaimedTimer, TimerRunner, TimerStore


async def main(args: argparse.Namespace, log: TextIO) -> None:
    redis = Redis.from_url(args.redis_url)
    store = TimerStore(redis, args.namespace, shards=args.shards)
    batches = 0

    def record(kind: str, timers: list[ClaimedTimer]) -> None:
        log.write("".join(f"{kind} {t.timer_id}\n" for t in timers))
        log.flush()
        os.fsync(log.fileno())

    async def fire(timers: list[ClaimedTimer]) -> None:
        nonlocal batches
        record("claim", timers)
        batches += 1
        if batches > args.hang_after:
            await asyncio.Event().wait()  # "publishing" forever, until SIGKILL
        record("done", timers)

    runner = TimerRunner(
        store, fire, owner=f"worker-{os.getpid()}", stopping=asyncio.Event(),
        lease=args.lease, batch=args.batch,
    )
    await runner.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("redis_url")
    parser.add_argument("namespace")
    parser.add_argument("log_path")
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--hang-after", type=int, default=2)
    arguments = parser.parse_args()
    with open(arguments.log_path, "a", buffering=1) as log_file:
        asyncio.run(main(arguments, log_file))
