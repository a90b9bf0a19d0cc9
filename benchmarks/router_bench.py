"""Router throughput benchmark on its own fresh embedded stack (DESIGN.md, "Throughput").

    python -m benchmarks.router_bench [--events 50000] [--quick] [--partitions 4]

Measures, in one run on one broker: a raw aiokafka consume->produce passthrough (the
baseline), `kefu run router` as one process and as two processes in one consumer group
(events routed per second), the routing latency under a paced load, and the peak RSS of
every router process. Prints a table and exits 0: no assertions, this is for reading.

How the router runs are timed: the router processes start, join their group and report
/readyz 200; then they are frozen (SIGSTOP), the events are produced into kefu.inbound,
and the clock starts when they are thawed (SIGCONT). So group joins and rebalances are
never timed, the router never competes for CPU with the producer, and it faces a
preloaded backlog just like the baseline does. The clock stops at the broker timestamp
(CreateTime, set by the router's producer) of the last output record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from redis.asyncio import Redis

from contracts import event_key, parse_inbound, topics
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port
from services.core.kafka import CachedKeyPartitioner, create_producer, create_topics, send_records
from services.core.runtime import all_acked
from services.core.settings import Settings

RAW_IN, RAW_OUT = "bench.raw.in", "bench.raw.out"
OUTPUT_TOPICS = (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE, topics.ORDERS)
HEADERS = [("content-type", b"application/json")]
BEIJING = timezone(timedelta(hours=8))
REPO = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------------
# Realistic inbound events
# ------------------------------------------------------------------------------------

PRODUCTS = ["羊毛针织开衫", "纯棉圆领T恤", "加绒卫衣", "高腰牛仔裤", "羽绒服", "真丝衬衫",
            "运动跑鞋", "保温杯", "蓝牙耳机", "双肩包", "儿童羽绒马甲", "床上四件套"]
PRODUCTS_EN = ["wool cardigan", "cotton T-shirt", "fleece hoodie", "denim jeans",
               "down jacket", "silk shirt", "running shoes", "thermos", "earbuds", "backpack"]
COLORS = ["灰色", "黑色", "白色", "藏青", "卡其", "酒红"]
SIZES = ["S", "M", "L", "XL", "XXL", "160/84A", "170/92A"]
CARRIERS = ["中通快递", "圆通速递", "顺丰速运", "韵达快递", "京东物流", "申通快递"]
CITIES = ["浙江省杭州市", "广东省广州市", "江苏省苏州市", "上海市", "北京市", "四川省成都市"]
ZH_TEXTS = [
    "在吗", "亲 在么？", "你好，请问{p}还有{s}码吗？", "这款{p}{c}的有现货吗",
    "{p}是什么面料的？会不会起球", "身高165体重110斤穿什么码", "能便宜点吗？买两件有优惠吗",
    "有没有优惠券，{n}块能不能卖", "老客户了，包邮吗", "我想改一下收货地址",
    "拍错颜色了，能帮我改成{c}吗", "订单{o}能改成{s}码吗", "什么时候发货啊？都{n}天了",
    "怎么还不发货，着急用，麻烦快点", "催一下发货，今天能发吗", "我的快递到哪了？单号查不到",
    "物流三天没更新了，是不是丢件了", "快递显示已签收但我没收到", "我要退货，{p}尺码不合适",
    "怎么申请退款？七天无理由可以吗", "退款什么时候到账", "收到的{p}有破洞，质量太差了",
    "衣服洗了一次就掉色起球了", "少发了一件，只收到一个", "发错货了，我买的是{c}{s}码",
    "再不处理我就投诉了，给差评！", "你们客服太慢了，我要找平台投诉", "骗子店铺，我要举报",
    "好的谢谢", "嗯嗯知道了", "收到了，挺好看的", "亲，{p}和图片上一样吗？有色差吗",
    "你好，我的快递{n}天没动了，什么时候能到？", "订单{o}怎么还没发货", "不是说48小时发货吗",
]
EN_TEXTS = [
    "hi, anyone there?", "Hello! Is the {pe} available in size {s}?",
    "What material is the {pe} made of?", "Can you give me a discount if I buy two?",
    "Is there free shipping to Shanghai?", "I need to change my delivery address please",
    "When will my order {o} ship? It's been {n} days", "Please ship it today, I need it urgently",
    "Where is my parcel? The tracking has not moved for 3 days",
    "The tracking says delivered but I never got it", "I want to return the {pe}, it's too small",
    "How do I get a refund? It has been a week", "The {pe} arrived damaged, there's a hole",
    "You sent the wrong color, I ordered {s} in black",
    "This is unacceptable, I will file a complaint and leave a bad review",
    "thanks, got it", "ok", "Does the {pe} run true to size?",
]
ZH_OPENERS = ["", "", "", "亲，", "你好，", "在吗？", "老板，", "客服你好，", "hello，", "喂，"]
ZH_CLOSERS = ["", "", "", "谢谢", "？？", "急！", "[微笑]", "麻烦尽快回复", "在线等", "谢谢亲～",
              "订单号{o}", "我{n}号要用", "[流泪]"]
EN_OPENERS = ["", "", "Hi, ", "Hello, ", "Excuse me, ", "hey "]
EN_CLOSERS = ["", "", " Thanks!", " thx", " Please reply asap.", " Order {o}.", " ??"]
AGENT_TEXTS = ["亲，您好！我马上帮您查询物流哦～", "亲，这款目前有现货，今天下单48小时内发货哦",
               "非常抱歉给您带来不便，已为您登记退换货", "Hi, let me check that for you.",
               "亲，地址已经帮您修改好了，请核对一下哦", "亲亲，这边已经催促仓库尽快发出了"]


@dataclass
class Conversation:
    shop: str
    platform: str
    conversation_id: str
    buyer_id: str
    nick: str
    english: bool
    order_id: str | None


@dataclass
class Workload:
    """Serialised events with their Kafka keys; every event causes exactly one output."""

    records: list[tuple[bytes, bytes]]
    mean_bytes: float
    kinds: dict[str, int] = field(default_factory=dict)


class EventFactory:
    """Buyer messages (mostly Chinese, some English, ~8 per conversation) plus agent
    replies, closes and the order, logistics and after-sale events of the same orders,
    over several shops, with fields an integrator typically adds on top of the contract."""

    def __init__(self, seed: int, conversations: int, run: str) -> None:
        self.rng = random.Random(seed)
        self.run = run
        self.count = 0
        shops = [(f"shop-{name}", platform) for name, platform in (
            ("hz-knit", "taobao"), ("gz-denim", "tmall"), ("sz-digital", "jd"),
            ("sh-home", "douyin"), ("cd-kids", "pdd"), ("bj-sport", "taobao"),
            ("xm-tea", "tmall"), ("wh-shoes", "jd"))]
        self.conversations = []
        for i in range(conversations):
            shop, platform = self.rng.choice(shops)
            has_order = self.rng.random() < 0.5
            self.conversations.append(Conversation(
                shop, platform, f"conv-{run}-{i:06d}", f"buyer-{run}-{i:06d}",
                self.rng.choice(["小美", "tb_887712", "jd_小王", "阿杰", "Lily", "momo酱"]),
                self.rng.random() < 0.25,
                f"ord-{run}-{i:06d}" if has_order else None,
            ))
        self.orders = [c for c in self.conversations if c.order_id]

    def _envelope(self, conv: Conversation, event_type: str, at: datetime, payload: dict) -> dict:
        self.count += 1
        n = self.count
        return {
            "event_id": f"evt-{self.run}-{n:08d}",
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at.isoformat(timespec="milliseconds"),
            "shop_id": conv.shop,
            "platform": conv.platform,
            "payload": payload,
            "trace_id": f"trace-{uuid.UUID(int=self.rng.getrandbits(128)).hex}",
            "x_integrator": {"source": "openapi-gateway", "region": "cn-hangzhou",
                             "received_at": at.isoformat(timespec="milliseconds"),
                             "request_id": uuid.UUID(int=self.rng.getrandbits(128)).hex},
        }

    def _text(self, conv: Conversation) -> str:
        """One or two sentences with an opener and a closer: few exact repeats, like real
        chat (a classifier cache keyed by text must not flatter the result)."""
        rng = self.rng
        if conv.english:
            parts = [rng.choice(EN_OPENERS), rng.choice(EN_TEXTS), rng.choice(EN_CLOSERS)]
        else:
            parts = [rng.choice(ZH_OPENERS), rng.choice(ZH_TEXTS)]
            if rng.random() < 0.3:
                parts.append("，" + rng.choice(ZH_TEXTS))
            parts.append(rng.choice(ZH_CLOSERS))
        return "".join(parts).format(
            p=rng.choice(PRODUCTS), pe=rng.choice(PRODUCTS_EN), c=rng.choice(COLORS),
            s=rng.choice(SIZES), n=rng.randint(2, 30), o=conv.order_id or "ord-unknown",
        )

    def event(self, at: datetime) -> dict:
        rng, roll = self.rng, self.rng.random()
        conv = rng.choice(self.conversations)
        if roll < 0.78:
            payload = {"conversation_id": conv.conversation_id, "buyer_id": conv.buyer_id,
                       "message_id": f"msg-{self.run}-{self.count:08d}", "text": self._text(conv),
                       "buyer_nick": conv.nick, "client": rng.choice(["ios", "android", "pc"])}
            if conv.order_id and rng.random() < 0.5:
                payload["order_id"] = conv.order_id
            if rng.random() < 0.15:
                payload["attachments"] = [{"type": "image",
                                           "url": f"https://img.example.cn/chat/{rng.getrandbits(40):x}.jpg"}]
            return self._envelope(conv, "buyer.message", at, payload)
        if roll < 0.86:
            return self._envelope(conv, "agent.message", at, {
                "conversation_id": conv.conversation_id, "agent_id": f"agent-{rng.randint(1, 40)}",
                "message_id": f"msg-{self.run}-{self.count:08d}", "text": rng.choice(AGENT_TEXTS)})
        if roll < 0.88:
            return self._envelope(conv, "conversation.closed", at, {
                "conversation_id": conv.conversation_id, "closed_by": "buyer"})
        return self._order_event(rng.choice(self.orders), at)

    def _order_event(self, conv: Conversation, at: datetime) -> dict:
        rng = self.rng
        base = {"order_id": conv.order_id}
        kind = rng.choices(["order.created", "order.paid", "order.shipped", "logistics.update",
                            "aftersale.requested", "review.posted"], [3, 3, 2, 2, 1, 1])[0]
        product = rng.choice(PRODUCTS)
        items = [{"sku": f"sku-{rng.randint(1000, 9999)}", "name": f"{product} {rng.choice(COLORS)}"
                  f" {rng.choice(SIZES)}", "quantity": rng.randint(1, 3), "price": 189.0}]
        if kind in ("order.created", "order.paid"):
            payload = {**base, "buyer_id": conv.buyer_id, "items": items, "amount": 189.0}
        elif kind == "order.shipped":
            payload = {**base, "carrier": rng.choice(CARRIERS),
                       "tracking_no": f"ZT{rng.getrandbits(40)}"}
        elif kind == "logistics.update":
            payload = {**base, "tracking_no": f"ZT{rng.getrandbits(40)}",
                       "status": rng.choice(["in_transit", "out_for_delivery", "delivered"]),
                       "description": "快件已到达【转运中心】", "location": rng.choice(CITIES)}
        elif kind == "aftersale.requested":
            payload = {**base, "case_id": f"case-{conv.order_id}", "buyer_id": conv.buyer_id,
                       "kind": "return_refund", "reason": "尺码不合适", "amount": 189.0}
        else:
            payload = {**base, "buyer_id": conv.buyer_id, "rating": rng.randint(1, 5),
                       "text": "质量不错，物流很快"}
        return self._envelope(conv, kind, at, payload)


def make_workload(n: int, *, seed: int, run: str) -> Workload:
    factory = EventFactory(seed, max(50, n // 8), run)
    start = datetime(2026, 11, 22, 9, 0, tzinfo=BEIJING)
    records, kinds, total = [], {}, 0
    for i in range(n):
        data = factory.event(start + timedelta(milliseconds=37 * i))
        raw = orjson.dumps(data)
        key = event_key(parse_inbound(raw)).encode()  # also proves every event is valid
        records.append((key, raw))
        kinds[data["event_type"]] = kinds.get(data["event_type"], 0) + 1
        total += len(raw)
    return Workload(records, total / max(1, n), kinds)


# ------------------------------------------------------------------------------------
# Kafka helpers (Tansu's ListOffsets is unreliable for keyed batches: ends are read
# from fetch responses' high watermarks instead)
# ------------------------------------------------------------------------------------

def partitions(topic_names: Iterable[str], count: int) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topic_names for p in range(count)]


async def log_ends(bootstrap: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, max_partition_fetch_bytes=1024,
                                fetch_max_wait_ms=50)
    await consumer.start()
    try:
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        ends: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + 15
        while len(ends) < len(tps) and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=100, max_records=1)
            ends.update({tp: hw for tp in tps if (hw := consumer.highwater(tp)) is not None})
        if len(ends) < len(tps):
            raise RuntimeError("could not read the log end offsets")
        return ends
    finally:
        await consumer.stop()


async def record_at(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int):
    consumer.seek(tp, offset)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        batch = await consumer.getmany(tp, timeout_ms=200, max_records=1)
        if batch.get(tp):
            return batch[tp][0]
    raise RuntimeError(f"no record at {tp} offset {offset}")


async def output_span(bootstrap: str, before: dict, after: dict) -> tuple[float, float]:
    """CreateTime (seconds) of the first and last records written between two snapshots."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        grown = [tp for tp in after if after[tp] > before.get(tp, 0)]
        consumer.assign(grown)
        firsts, lasts = [], []
        for tp in grown:
            firsts.append((await record_at(consumer, tp, before.get(tp, 0))).timestamp)
            lasts.append((await record_at(consumer, tp, after[tp] - 1)).timestamp)
        return min(firsts) / 1000, max(lasts) / 1000
    finally:
        await consumer.stop()


async def new_producer(bootstrap: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                max_batch_size=256 * 1024)
    await producer.start()
    return producer


async def produce_all(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]],
                      ends: dict[TopicPartition, int] | None = None) -> float:
    """Produce every record, wait for all acks; track the log ends in `ends`. Returns s."""
    producer = await new_producer(bootstrap)
    started = time.perf_counter()
    try:
        futures = []
        for key, value in records:
            futures.append(await producer.send(topic, value, key=key, headers=HEADERS))
            if len(futures) >= 5000:
                _track(ends, await asyncio.gather(*futures))
                futures = []
        _track(ends, await asyncio.gather(*futures))
    finally:
        await producer.stop()
    return time.perf_counter() - started


def _track(ends: dict[TopicPartition, int] | None, metadata) -> None:
    if ends is None:
        return
    for md in metadata:
        tp = TopicPartition(md.topic, md.partition)
        ends[tp] = max(ends.get(tp, 0), md.offset + 1)


async def commit_group_at(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Start a fresh (empty) group at these offsets instead of at the log start."""
    if not offsets:
        return
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


# ------------------------------------------------------------------------------------
# Baseline: raw aiokafka passthrough
# ------------------------------------------------------------------------------------

@dataclass
class Baseline:
    events_per_s: float
    cpu_us_per_event: float
    cores: float
    server_cores: float
    runs: tuple[float, ...] = ()  # events/s of each run averaged, if more than one

    def averaged_with(self, other: Baseline) -> Baseline:
        """The mean of two runs: one before and one after the router's run, so that a
        shared machine speeding up or slowing down in between does not decide the ratio."""
        return Baseline(
            (self.events_per_s + other.events_per_s) / 2,
            (self.cpu_us_per_event + other.cpu_us_per_event) / 2,
            (self.cores + other.cores) / 2,
            (self.server_cores + other.server_cores) / 2,
            runs=(self.events_per_s, other.events_per_s),
        )


async def baseline(settings: Settings, n: int, max_records: int,
                   servers_cpu: Callable[[], float], *, batched: bool = False) -> Baseline:
    """Consume RAW_IN, produce each record unchanged to RAW_OUT: batch getmany, queue
    the batch's records, await their acks, commit the batch. The producer and the wait
    for acks are those every kefu service publishes through (same acks, linger, batch
    size and partitioner). Records are queued with `producer.send()` each, the plain
    aiokafka way and the reference of the router's target; `batched` queues them with
    `send_records` (a record batch per partition), as kefu's services do. Events/s from
    the first batch received to the last commit (group join excluded)."""
    bootstrap = settings.kafka_bootstrap
    consumer = AIOKafkaConsumer(RAW_IN, bootstrap_servers=bootstrap,
                                group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    producer = create_producer(settings, service="bench-baseline")
    await producer.start()
    await consumer.start()
    partitioner = CachedKeyPartitioner()
    done, started, cpu, servers = 0, None, 0.0, 0.0
    try:
        deadline = time.monotonic() + 300
        while done < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=100, max_records=max_records)
            if not batch:
                continue
            if started is None:
                started, cpu, servers = time.perf_counter(), time.process_time(), servers_cpu()
            records = [r for rs in batch.values() for r in rs]
            if batched:
                futures = await send_records(
                    producer, [(RAW_OUT, r.key, r.value) for r in records], headers=HEADERS,
                    partitioner=partitioner, max_request_size=settings.kafka_max_message_bytes)
            else:
                futures = [await producer.send(RAW_OUT, r.value, key=r.key, headers=HEADERS)
                           for r in records]
            await all_acked(futures)
            await consumer.commit()
            done += len(records)
        elapsed = time.perf_counter() - (started or time.perf_counter())
        cpu, servers = time.process_time() - cpu, servers_cpu() - servers
    finally:
        await consumer.stop()
        await producer.stop()
    if done < n:
        raise RuntimeError(f"baseline moved only {done} of {n} events")
    return Baseline(n / elapsed, cpu / n * 1e6, cpu / elapsed, servers / elapsed)


# ------------------------------------------------------------------------------------
# Router processes
# ------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (a busy machine slows a process down, but
    hardly changes how much CPU it needs per event)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class RouterProc:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def check_alive(routers: list[RouterProc]) -> None:
    for r in routers:
        if r.proc.poll() is not None:
            raise RuntimeError(f"router exited with {r.proc.returncode}; see {r.log}:\n"
                               + r.log.read_text()[-2000:])


def start_router(broker: EmbeddedBroker, redis: EmbeddedRedis, group_prefix: str,
                 workdir: Path, index: int, session_timeout_ms: int) -> RouterProc:
    port = free_port()
    env = dict(os.environ)
    env.update({
        "KEFU_KAFKA_BOOTSTRAP": broker.bootstrap, "KEFU_REDIS_URL": redis.url,
        "KEFU_HTTP_PORT": str(port), "KEFU_GROUP_PREFIX": group_prefix,
        "KEFU_LOG_LEVEL": "WARNING", "KEFU_LOG_FORMAT": "json",
    })
    if session_timeout_ms > 10_000:  # longer than the default: slower group joins on Tansu
        env["KEFU_CONSUMER_SESSION_TIMEOUT_MS"] = str(session_timeout_ms)
    log = workdir / f"{group_prefix}-router-{index}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.cli.main", "run", "router"],
                                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return RouterProc(proc, port, log)


async def wait_ready(session: aiohttp.ClientSession, routers: list[RouterProc],
                     timeout: float) -> float:
    started = time.monotonic()
    pending = list(routers)
    while pending:
        check_alive(routers)
        for r in list(pending):
            try:
                async with session.get(f"http://127.0.0.1:{r.port}/readyz") as resp:
                    if resp.status == 200:
                        pending.remove(r)
            except aiohttp.ClientError:
                pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"routers not ready after {timeout:.0f}s; "
                               f"logs in {routers[0].log.parent}")
        if pending:
            await asyncio.sleep(0.2)
    return time.monotonic() - started


async def out_counts(session: aiohttp.ClientSession, router: RouterProc) -> tuple[int, int]:
    """(outputs on role topics + kefu.orders, dead letters) acked so far, from /metrics."""
    routed = dead = 0
    async with session.get(f"http://127.0.0.1:{router.port}/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith("kefu_events_out_total{"):
            value = int(float(line.rsplit(" ", 1)[1]))
            if f'topic="{topics.DLQ}"' in line:
                dead += value
            else:
                routed += value
    return routed, dead


@dataclass
class RouterRun:
    processes: int
    events_per_s: float
    cpu_us_per_event: float
    join_s: float
    frozen_s: float
    seconds: float
    split: list[int]
    dead_letters: int
    cores: float = 0.0
    server_cores: float = 0.0
    peak_rss_mb: list[float | None] = field(default_factory=list)
    latency: dict[str, float] | None = None


class Bench:
    def __init__(self, args: argparse.Namespace, broker: EmbeddedBroker, redis: EmbeddedRedis,
                 workdir: Path) -> None:
        self.args, self.broker, self.redis, self.workdir = args, broker, redis, workdir
        self.inbound_ends: dict[TopicPartition, int] = {}
        self.out_tps = partitions(OUTPUT_TOPICS, args.partitions)

    def servers_cpu(self) -> float:
        return sum(cpu_seconds(s.proc.pid) for s in (self.broker, self.redis) if s.proc)

    async def router_run(self, workload: Workload, processes: int, *,
                         latency: bool = False) -> RouterRun:
        """Start `processes` routers in a fresh group (at the current end of kefu.inbound)
        on an empty Redis, wait until all are ready, freeze them, produce the workload,
        thaw them and time until the last output. Then, optionally, the latency run."""
        bootstrap, n = self.broker.bootstrap, len(workload.records)
        group_prefix = f"bench-{uuid.uuid4().hex[:8]}"
        redis = Redis.from_url(self.redis.url)
        await redis.flushdb()  # every run starts with cold context and no dedup keys
        await redis.aclose()
        await commit_group_at(bootstrap, f"{group_prefix}-router", dict(self.inbound_ends))
        # The routers stay frozen while the backlog is produced (~15k ev/s here): their
        # session must outlast that, or the run would include a rebalance.
        session_ms = max(10_000, n // 5)
        routers = [start_router(self.broker, self.redis, group_prefix, self.workdir, i,
                                session_ms) for i in range(processes)]
        spy = None
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                join_s = await wait_ready(session, routers, self.args.ready_timeout)
                if self.args.py_spy and processes == 1:
                    spy = start_py_spy(routers[0].pid, self.args.py_spy)
                frozen = time.monotonic()
                for r in routers:
                    r.signal(signal.SIGSTOP)
                await produce_all(bootstrap, topics.INBOUND, workload.records, self.inbound_ends)
                before = await log_ends(bootstrap, self.out_tps)
                cpu_before = sum(r.cpu_seconds() for r in routers)
                servers_before = self.servers_cpu()
                resumed = time.time()
                for r in routers:
                    r.signal(signal.SIGCONT)
                frozen_s = time.monotonic() - frozen
                if frozen_s > session_ms / 1000 * 0.8:
                    say(f"warning: frozen {frozen_s:.1f}s, close to the {session_ms} ms session "
                        "timeout; this run may include a rebalance")
                deadline = time.monotonic() + max(120, n / 200)
                counts = [(0, 0)]
                while sum(map(sum, counts)) < n and time.monotonic() < deadline:
                    await asyncio.sleep(0.25)  # polling /metrics costs the router ~1% CPU
                    check_alive(routers)
                    try:
                        counts = [await out_counts(session, r) for r in routers]
                    except (aiohttp.ClientError, TimeoutError):
                        continue
                cpu = sum(r.cpu_seconds() for r in routers) - cpu_before
                servers = self.servers_cpu() - servers_before
                if spy is not None:
                    stop_py_spy(spy)
                    spy = None
                if sum(map(sum, counts)) < n:
                    raise RuntimeError(f"only {sum(map(sum, counts))} of {n} events routed in time")
                after = await log_ends(bootstrap, self.out_tps)
                _, last = await output_span(bootstrap, before, after)
                seconds = last - resumed
                result = RouterRun(processes, n / seconds, cpu / n * 1e6, join_s, frozen_s,
                                   seconds, [sum(c) for c in counts], sum(d for _, d in counts),
                                   cores=cpu / seconds, server_cores=servers / seconds)
                if latency:
                    # Paced below the router's capacity, so latency is not queueing time.
                    rate = min(self.args.rate, result.events_per_s / 2)
                    say(f"router {fmt_rate(result.events_per_s)}; latency at {rate:,.0f} ev/s")
                    result.latency = await self.latency_run(rate)
                result.peak_rss_mb = [r.peak_rss_mb() for r in routers]
                return result
        finally:
            if spy is not None:
                stop_py_spy(spy)
            for r in routers:
                r.stop()

    async def latency_run(self, rate: float) -> dict[str, float]:
        """Paced load on the running router: send time (in the bench) vs. the time a
        consumer receives the output, and vs. the output's routing.routed_at."""
        bootstrap, duration = self.broker.bootstrap, self.args.latency_seconds
        total = int(rate * duration)
        factory = EventFactory(seed=7, conversations=max(50, total // 8), run=uuid.uuid4().hex[:6])
        sent: dict[str, float] = {}
        received: dict[str, tuple[float, float | None]] = {}
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=20)
        starts = await log_ends(bootstrap, self.out_tps)
        await consumer.start()
        consumer.assign(self.out_tps)
        for tp, offset in starts.items():
            consumer.seek(tp, offset)

        async def collect() -> None:
            deadline = time.monotonic() + duration + 30
            while len(received) < total and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=50)
                now = time.time()
                for records in batch.values():
                    for r in records:
                        body = orjson.loads(r.value)
                        routed_at = (body.get("routing") or {}).get("routed_at")
                        stamp = datetime.fromisoformat(routed_at).timestamp() if routed_at else None
                        received[body["event_id"]] = (now, stamp)

        collector = asyncio.create_task(collect())
        producer = await new_producer(bootstrap)
        try:
            futures, started = [], time.monotonic()
            while len(sent) < total:
                due = min(total, int((time.monotonic() - started) * rate) + 1)
                while len(sent) < due:
                    event = factory.event(datetime.now(BEIJING))
                    raw = orjson.dumps(event)
                    key = event_key(parse_inbound(raw)).encode()
                    sent[event["event_id"]] = time.time()
                    futures.append(await producer.send(topics.INBOUND, raw, key=key,
                                                       headers=HEADERS))
                await asyncio.sleep(0.005)
            _track(self.inbound_ends, await asyncio.gather(*futures))
            achieved = total / (time.monotonic() - started)
            await collector
        finally:
            collector.cancel()
            await producer.stop()
            await consumer.stop()
        e2e = sorted((received[e][0] - t) * 1000 for e, t in sent.items() if e in received)
        to_routed = sorted((received[e][1] - t) * 1000 for e, t in sent.items()
                           if e in received and received[e][1] is not None)
        return {"rate": achieved, "events": total, "received": len(e2e),
                "capped": rate < self.args.rate,
                "p50": pct(e2e, 50), "p99": pct(e2e, 99),
                "routed_p50": pct(to_routed, 50), "routed_p99": pct(to_routed, 99)}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def start_py_spy(pid: int, out: str) -> subprocess.Popen:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = "speedscope" if out.endswith(".json") else "raw" if out.endswith(".txt") else "flamegraph"
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "250", "--nonblocking",
                             "--format", fmt, "--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


# ------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------

def fmt_rate(value: float) -> str:
    return f"{value:,.0f} ev/s"


def fmt_rss(values: list[float | None]) -> str:
    return " + ".join("?" if v is None else f"{v:.0f} MB" for v in values)


def report(args, workload: Workload, base: Baseline, batched: Baseline, one: RouterRun,
           two: RouterRun | None, wall: float) -> str:
    n = len(workload.records)
    row = "  {:<34}{:>13}{:>12}   {}".format
    lines = [
        f"kefu router benchmark: {n:,} events (~{workload.mean_bytes:.0f} B, "
        f"{workload.kinds.get('buyer.message', 0) / n:.0%} buyer.message), {args.partitions} "
        f"partitions, {os.cpu_count()} CPUs, embedded Tansu + Valkey",
        "",
        row("", "throughput", "CPU/event", "ratio (target)"),
        row("baseline: raw aiokafka passthrough", fmt_rate(base.events_per_s),
            f"{base.cpu_us_per_event:.0f} us", "send() per record"
            + (f"; mean of {' and '.join(map(fmt_rate, base.runs))} (before and after "
               "the 1-process run)" if base.runs else "")),
        row("  the same, with record batches", fmt_rate(batched.events_per_s),
            f"{batched.cpu_us_per_event:.0f} us", "send_records, as kefu publishes"),
        row("router, 1 process", fmt_rate(one.events_per_s), f"{one.cpu_us_per_event:.0f} us",
            f"{one.events_per_s / base.events_per_s:.2f}x baseline (>= 0.3, stretch 0.5); "
            f"{one.events_per_s / batched.events_per_s:.2f}x with record batches"),
    ]
    if two is not None:
        lines.append(row(
            "router, 2 processes, one group", fmt_rate(two.events_per_s),
            f"{two.cpu_us_per_event:.0f} us",
            f"{two.events_per_s / one.events_per_s:.2f}x 1 process (>= 1.6)"))
    lat = one.latency
    if lat is not None:
        lines += [
            "",
            f"  latency, 1 process, {lat['rate']:,.0f} ev/s paced for {args.latency_seconds:g} s "
            f"({lat['received']:,}/{lat['events']:,} outputs seen):",
            f"    send -> output received       p50 {lat['p50']:7.1f} ms   "
            f"p99 {lat['p99']:7.1f} ms",
            f"    send -> routing.routed_at     p50 {lat['routed_p50']:7.1f} ms   "
            f"p99 {lat['routed_p99']:7.1f} ms",
        ]
        if lat["capped"]:
            lines.append(f"    (rate capped at half the 1-process throughput, "
                         f"not {args.rate:,.0f})")
    lines += ["", f"  peak RSS (VmHWM): 1 process {fmt_rss(one.peak_rss_mb)}"
              + (f"; 2 processes {fmt_rss(two.peak_rss_mb)}" if two is not None else "")]
    for r in [one] + ([two] if two is not None else []):
        note = (f"  {r.processes}p: group join {r.join_s:.1f}s (not timed), frozen "
                f"{r.frozen_s:.1f}s while the backlog was produced, routed in {r.seconds:.2f}s "
                f"using {r.cores:.2f} cores (+ broker and Redis {r.server_cores:.2f})")
        if r.processes > 1:
            note += ", split " + "/".join(f"{c / max(1, sum(r.split)):.0%}" for c in r.split)
        if r.dead_letters:
            note += f", {r.dead_letters} dead-lettered (unexpected)"
        lines.append(note)
    lines.append(f"  baselines used {base.cores:.2f} and {batched.cores:.2f} cores (+ broker and "
                 f"Redis {base.server_cores:.2f} and {batched.server_cores:.2f}); CPU/event = "
                 f"the process's CPU time per event, which a busy machine hardly changes; "
                 f"total {wall:.0f}s")
    return "\n".join(lines)


@contextmanager
def embedded_stack(prefix: str) -> Iterator[tuple[EmbeddedBroker, EmbeddedRedis, Path]]:
    """A fresh broker and Redis on free ports; their logs stay in a temporary folder,
    kept (and named) only when the benchmark fails."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    broker = EmbeddedBroker(port=free_port(), log_path=workdir / "broker.log")
    redis = EmbeddedRedis(port=free_port(), data_dir=workdir / "valkey",
                          log_path=workdir / "redis.log")
    broker.start()
    redis.start()
    failed = False
    try:
        yield broker, redis, workdir
    except BaseException:
        failed = True
        say(f"benchmark failed; logs kept in {workdir}")
        raise
    finally:
        broker.stop()
        redis.stop()
        if not failed:
            shutil.rmtree(workdir, ignore_errors=True)


async def run(args: argparse.Namespace) -> int:
    wall = time.monotonic()
    with embedded_stack("kefu-bench-") as (broker, redis, workdir):
        settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)
        await create_topics(settings, [*topics.ALL_TOPICS, RAW_IN, RAW_OUT], args.partitions)
        say(f"generating {args.events:,} events ...")
        workload = make_workload(args.events, seed=42, run=uuid.uuid4().hex[:6])
        say(f"baseline: preloading {RAW_IN}, then passthrough to {RAW_OUT} ...")
        await produce_all(broker.bootstrap, RAW_IN, workload.records)
        bench = Bench(args, broker, redis, workdir)
        base = await baseline(settings, args.events, args.max_records, bench.servers_cpu)
        batched = await baseline(settings, args.events, args.max_records, bench.servers_cpu,
                                 batched=True)
        say(f"baselines {fmt_rate(base.events_per_s)} and {fmt_rate(batched.events_per_s)}; "
            "router, 1 process ...")
        one = await bench.router_run(workload, 1, latency=True)
        say("baseline again (the machine's speed drifts) ...")
        base = base.averaged_with(
            await baseline(settings, args.events, args.max_records, bench.servers_cpu))
        two = None
        if not args.skip_two:
            say("router, 2 processes ...")
            two = await bench.router_run(workload, 2)
        print(report(args, workload, base, batched, one, two, time.monotonic() - wall),
              flush=True)
        return 0


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.router_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=None,
                        help="events per throughput run (default 50000)")
    parser.add_argument("--quick", action="store_true", help="10k events, 3 s latency run")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--max-records", type=int, default=500,
                        help="baseline batch size (the router's default consumer_max_records)")
    parser.add_argument("--rate", type=float, default=2000,
                        help="latency run: events/s (capped at half the 1-process throughput)")
    parser.add_argument("--latency-seconds", type=float, default=None,
                        help="latency run length (default 5, --quick 3)")
    parser.add_argument("--ready-timeout", type=float, default=120)
    parser.add_argument("--skip-two", action="store_true", help="skip the 2-process run")
    parser.add_argument("--py-spy", metavar="OUT", default=None,
                        help="profile the 1-process run with py-spy (installed separately); "
                             "OUT.svg flamegraph, OUT.json speedscope, OUT.txt collapsed stacks")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 10_000 if args.quick else 50_000
    if args.latency_seconds is None:
        args.latency_seconds = 3.0 if args.quick else 5.0
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
