"""What one fetch costs the embedded broker as its log grows.

Tansu's in-memory storage keeps each produced batch as one object and, on every fetch
that has something to return, lists every batch object of the partition to find where
to start (tansu-storage `dynostore.rs`, `fetch`). So the broker's CPU per fetch grows
with the partition's history, not with what the fetch returns. This benchmark fills one
partition in steps and, at each step, measures the broker's CPU for fetches one batch
behind the end (what a consumer keeping up does) and at the end (an idle poll), printed
as a ratio to the first step.

    python -m benchmarks.broker_fetch [--steps 1000,4000,16000,32000] [--fetches 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmarks.common.procs import cpu_seconds
from services.core.embedded import EmbeddedBroker, free_port

TOPIC, RECORDS_PER_BATCH, VALUE = "fetch-cost", 5, b"x" * 500


async def fill(producer: AIOKafkaProducer, batches: int) -> None:
    last = None
    for i in range(batches):
        builder = producer.create_batch()
        for _ in range(RECORDS_PER_BATCH):
            builder.append(key=None, value=VALUE, timestamp=None)
        last = await producer.send_batch(builder, TOPIC, partition=0)
        if i % 200 == 199:
            await last
    if last is not None:
        await last


async def fetch_cost(consumer: AIOKafkaConsumer, pid: int, fetches: int,
                     behind: int) -> float:
    """Broker CPU ms per fetch starting `behind` records before the end."""
    tp = TopicPartition(TOPIC, 0)
    end = (await consumer.end_offsets([tp]))[tp]
    started = cpu_seconds(pid)
    for _ in range(fetches):
        consumer.seek(tp, end - behind)
        await consumer.getmany(tp, timeout_ms=1000 if behind else 50)
    return (cpu_seconds(pid) - started) * 1000 / fetches


async def run(steps: list[int], fetches: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        broker = EmbeddedBroker(port=free_port(), log_path=Path(workdir) / "broker.log")
        broker.start()
        try:
            admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
            await admin.start()
            await admin.create_topics([NewTopic(TOPIC, 1, 1)])
            await admin.close()
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
            consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap,
                                        enable_auto_commit=False, fetch_max_wait_ms=20)
            await producer.start()
            await consumer.start()
            consumer.assign([TopicPartition(TOPIC, 0)])
            try:
                await report(producer, consumer, broker.proc.pid, steps, fetches)
            finally:
                await consumer.stop()
                await producer.stop()
        finally:
            broker.stop()


async def report(producer, consumer, pid: int, steps: list[int], fetches: int) -> None:
    print(f"{'batches stored':>15} {'ms/fetch behind':>16} {'ratio':>6} {'ms/idle poll':>13}")
    stored, first = 0, None
    for step in steps:
        await fill(producer, step - stored)
        stored = step
        behind = await fetch_cost(consumer, pid, fetches, RECORDS_PER_BATCH)
        idle = await fetch_cost(consumer, pid, fetches, 0)
        first = first or behind
        print(f"{stored:>15,} {behind:>16.2f} {behind / first:>6.1f} {idle:>13.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1000,4000,16000,32000",
                        help="batch counts to measure at, ascending (default %(default)s)")
    parser.add_argument("--fetches", type=int, default=50, help="fetches per measurement")
    args = parser.parse_args()
    try:
        steps = sorted(int(s) for s in args.steps.split(","))
    except ValueError:
        parser.error(f"--steps takes comma-separated batch counts, not {args.steps!r}")
    if not steps or steps[0] <= 0:
        parser.error("--steps needs at least one positive batch count")
    asyncio.run(run(steps, args.fetches))


if __name__ == "__main__":
    main()
