"""Producing the traffic into kefu.inbound and consuming the outputs."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.common.kafka_io import HEADERS, log_ends, new_producer, record_at
from benchmarks.soak.accounting import event_key_of, expected_slots
from benchmarks.soak.constants import ROLE_TOPICS, WATCHED_TOPICS
from contracts import topics
from services.demo.wire import BEIJING


class KafkaTraffic:
    """The producer and output consumer of `Soak` (a mixin)."""

    async def produce(self) -> None:
        producer = await new_producer(self.bootstrap, linger_ms=self.args.linger_ms)
        loop = asyncio.get_running_loop()
        pending: list[tuple[str, asyncio.Future]] = []
        acks: set[asyncio.Task] = set()
        rate, seconds = self.args.rate, self.args.minutes * 60
        try:
            start = last_confirm = loop.time()
            sent = 0
            while not self.stopping.is_set():
                elapsed = loop.time() - start
                if elapsed >= seconds:
                    break
                due = int(elapsed * rate) + 1
                while sent < due:
                    event = self.traffic.next_event(elapsed, datetime.now(BEIJING))
                    value = orjson.dumps(event)
                    key = event_key_of(event).encode()
                    eid = event["event_id"]
                    self.ledger.sent(eid, expected_slots(event), time.time())
                    if self.sla is not None:
                        self.sla.sent(event)
                    if self.chaos is not None:
                        self.chaos.history.sent(event)
                    pending.append((eid, await producer.send(topics.INBOUND, value, key=key,
                                                             headers=HEADERS)))
                    self.mix[event["event_type"]] += 1
                    self.bytes_sent += len(value)
                    self.window["sent"] += 1
                    sent += 1
                if pending and (len(pending) >= 500 or loop.time() - last_confirm > 0.2):
                    task = asyncio.create_task(self._confirm(pending))
                    acks.add(task)
                    task.add_done_callback(acks.discard)
                    pending, last_confirm = [], loop.time()
                await asyncio.sleep(max(0.0, min(0.02, (sent / rate) - (loop.time() - start))))
            self.send_seconds = loop.time() - start
            if pending:
                await self._confirm(pending)
            if acks:
                await asyncio.gather(*acks)
        finally:
            await producer.stop()

    async def _confirm(self, pending: list[tuple[str, asyncio.Future]]) -> None:
        results = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
        for (eid, _), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                self.ledger.send_failed(eid)

    # -- consumer --------------------------------------------------------------------
    async def consume(self, ready: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=20)
        try:
            await consumer.start()
            await consumer.topics()
            watched = WATCHED_TOPICS + (self.chaos.topics if self.chaos is not None else ())
            tps = [TopicPartition(t, p) for t in watched
                   for p in sorted(consumer.partitions_for_topic(t) or ())]
            if not tps:
                raise RuntimeError(f"no kefu topics on {self.bootstrap}; is the stack running?")
            starts = await log_ends(self.bootstrap, tps)
            consumer.assign(tps)
            for tp, offset in starts.items():
                consumer.seek(tp, offset)
            ready.set()
            last = {tp: offset - 1 for tp, offset in starts.items()}
            while not self.abort.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=2000)
                now = time.time()
                for tp, records in batch.items():
                    for record in records:
                        if record.offset > last.get(tp, record.offset - 1) + 1:
                            self.read_gaps[tp.topic] += record.offset - last[tp] - 1
                            self.gaps.append((tp, last[tp] + 1, record.offset))
                        last[tp] = max(last.get(tp, -1), record.offset)
                        self._on_output(tp.topic, record.value, now)
        finally:
            await consumer.stop()

    async def probe_gaps(self, most: int = 20) -> list[dict]:
        """What the broker holds, read afresh after the run, at the first `most` offsets
        the reader skipped: a record there was skipped by the reader (a soak bug), none
        means the broker assigned the offset to nothing readable."""
        if not self.gaps:
            return []
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=50)
        found = []
        try:
            await consumer.start()
            for tp, start, end in self.gaps[:most]:
                consumer.assign([tp])
                try:
                    first = (await record_at(consumer, tp, start)).offset
                except RuntimeError:
                    first = None
                found.append({"topic": tp.topic, "partition": tp.partition, "from": start,
                              "to": end - 1, "next_record_at": first,
                              "broker_has_record": first is not None and first < end})
        finally:
            await consumer.stop()
        return found

    def _on_output(self, topic: str, value: bytes, now: float) -> None:
        if topic == topics.DLQ:
            if self.run_id.encode() in value:
                self.dlq_ours += 1
            else:
                self.dlq_other += 1
            return
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            return
        if self.chaos is not None:
            self.chaos.history.output(topic, body, now)
            if topic in self.chaos.topics:
                return
        if topic == topics.ESCALATIONS:
            if self.sla is not None:
                self.sla.observe(body)
            before = len(self.escalations.ids)
            late = self.escalations.observe(body)
            self.window["esc"] += len(self.escalations.ids) - before
            if late is not None:
                self.window["late"].append(late)
            return
        if self.sla is not None and topic in ROLE_TOPICS:
            self.sla.routed(str(body.get("event_id", "")), topic.rsplit(".", 1)[1])
        latency = self.ledger.observe(str(body.get("event_id", "")), topic, now)
        if latency is not None:
            group = "orders" if topic == topics.ORDERS else "role"
            self.latency[group].append(latency)
            self.window[group].append(latency)
            self.window["out"] += 1

    # -- scraping --------------------------------------------------------------------
