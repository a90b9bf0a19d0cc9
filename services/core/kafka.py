"""Kafka factories: the FastStream broker, security options and topic provisioning."""

from __future__ import annotations

import asyncio
import logging
import ssl
import struct
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import MessageSizeTooLargeError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from services.core.settings import Settings


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if "SSL" not in settings.kafka_security_protocol:
        return None
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    context = ssl.create_default_context(cafile=cafile)
    if settings.kafka_ssl_certfile:
        keyfile = str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None
        context.load_cert_chain(str(settings.kafka_ssl_certfile), keyfile)
    return context


def broker_security(settings: Settings) -> BaseSecurity | None:
    """TLS and SASL as FastStream security (also documented in the AsyncAPI servers)."""
    context = _ssl_context(settings)
    if not settings.kafka_security_protocol.startswith("SASL"):
        return BaseSecurity(ssl_context=context) if context else None
    user = settings.kafka_sasl_username or ""
    secret = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}[
        settings.kafka_sasl_mechanism
    ]
    return sasl(user, secret, ssl_context=context)


def client_security(settings: Settings) -> dict[str, Any]:
    """The same options as aiokafka keyword arguments (admin client, demo, benchmarks)."""
    security = broker_security(settings)
    return parse_security(security) if security is not None else {}


def create_broker(settings: Settings, *, service: str, logger: Any = None) -> KafkaBroker:
    """The FastStream broker that runs the subscribers. It creates no producer of its
    own: outputs go through `create_producer` (see ServiceRuntime.publish)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-{service}",
        consumer_only=True,
        graceful_timeout=10.0,
        logger=logger,
        log_level=logging.DEBUG,  # per-message "Received/Processed" lines only at DEBUG
        security=broker_security(settings),
        apply_types=False,  # the subscriber takes the message as it is: FastStream's
        # dependency injection resolved it in a worker thread, a thread hop per batch
    )


PRODUCE_BATCH_BYTES = 512 * 1024
"""Per-partition produce batch. aiokafka's default (16 KiB, ~25 of our events) made
send() wait for a produce round trip every few dozen records of a consumed batch;
a whole batch's outputs now fit in one produce request."""


def create_producer(settings: Settings, *, service: str) -> AIOKafkaProducer:
    """The producer every service publishes through: acks from all in-sync replicas."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-{service}-out",
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=0,
        max_batch_size=min(PRODUCE_BATCH_BYTES, settings.kafka_max_message_bytes),
        max_request_size=settings.kafka_max_message_bytes,
        partitioner=CachedKeyPartitioner(),
        **client_security(settings),
    )


_M = 0x5BD1E995
_WORDS = struct.Struct("<I")


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), the hash of the
    Java client's default partitioner. aiokafka's version works byte by byte in Python
    (~2,000 bytecodes for a 17-byte key: the router's costliest Python function, since
    a conversation's first event always misses the cache); this one reads 4-byte words
    in C and XORs the 1-3 tail bytes in one go. Same results (tests/unit/test_partitioner.py)."""
    length = len(data)
    h = 0x9747B28C ^ length
    whole = length & ~3
    for (k,) in _WORDS.iter_unpack(data[:whole]):
        k = (k * _M) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * _M) & 0xFFFFFFFF
        h = ((h * _M) & 0xFFFFFFFF) ^ k
    if length & 3:
        h = ((h ^ int.from_bytes(data[whole:], "little")) * _M) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * _M) & 0xFFFFFFFF
    return h ^ (h >> 15)


class CachedKeyPartitioner(DefaultPartitioner):
    """aiokafka's default partitioner (murmur2 of the key, as the Java client does, so a
    key lands on the same partition whoever produces it) with the hash of recent keys
    cached: our keys (conversation, order and agent ids) repeat for every event of the
    same conversation or order."""

    def __init__(self, cache_size: int = 16_384) -> None:
        self._hash = lru_cache(maxsize=cache_size)(murmur2)

    def __call__(self, key, all_partitions, available):
        if key is None:
            return super().__call__(key, all_partitions, available)
        return all_partitions[(self._hash(key) & 0x7FFFFFFF) % len(all_partitions)]


Record = tuple[str, bytes, bytes]
"""(topic, key, value) of one message to produce."""


async def send_records(
    producer: AIOKafkaProducer,
    records: Iterable[Record],
    *,
    headers: list[tuple[str, bytes]],
    partitioner: CachedKeyPartitioner,
    max_request_size: int,
    placed: list[tuple[asyncio.Future, list[int]]] | None = None,
) -> list[asyncio.Future]:
    """Queue `records` (keyed, in order) for sending; returns one future per produce
    batch, resolved when the broker acked it.

    With `placed`, each batch is also appended there, as soon as the producer holds it,
    as (its future, the positions of its records in `records`): a caller that needs to
    know which records were written (the gateway) reads it, also after an exception,
    when the records not placed were never handed to the producer.

    The same partitions, ordering and size limit as `producer.send()` per record, built
    as one record batch per partition with aiokafka's batch API: `send()` is a coroutine,
    a future and a partitioner lookup per record, which cost more than the records
    themselves. A partition's records stay in order: a full batch is handed to the
    producer before the next one for the same partition is started."""
    builders: dict[tuple[str, int], Any] = {}
    positions: dict[tuple[str, int], list[int]] = {}  # only with `placed`
    partitions: dict[str, list[int]] = {}
    futures: list[asyncio.Future] = []
    large = max_request_size // 2  # below this, no record can be too large
    for position, (topic, key, value) in enumerate(records):
        if len(value) + len(key) > large:
            size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
            if size > max_request_size:
                raise MessageSizeTooLargeError(
                    f"a {size}-byte record for {topic} is over the maximum request size "
                    f"({max_request_size})"
                )
        if topic not in partitions:
            partitions[topic] = sorted(await producer.partitions_for(topic))
        tp = topic, partitioner(key, partitions[topic], None)
        builder = builders.get(tp)
        if builder is None:
            builder = builders[tp] = producer.create_batch()
            if placed is not None:
                positions[tp] = []
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            futures.append(await producer.send_batch(builder, tp[0], partition=tp[1]))
            if placed is not None:
                placed.append((futures[-1], positions[tp]))
                positions[tp] = []
            builder = builders[tp] = producer.create_batch()
            builder.append(timestamp=None, key=key, value=value, headers=headers)
        if placed is not None:
            positions[tp].append(position)
    for tp, builder in builders.items():
        futures.append(await producer.send_batch(builder, tp[0], partition=tp[1]))
        if placed is not None:
            placed.append((futures[-1], positions[tp]))
    return futures


def topic_configs(settings: Settings) -> dict[str, str]:
    """The configs of a topic kefu creates: its message size limit and, when replicated,
    `min.insync.replicas` (2 from 3 replicas up), so that an `acks=all` write survives the
    loss of one broker."""
    configs = {"max.message.bytes": str(settings.kafka_max_message_bytes)}
    if settings.topic_replication > 1:
        configs["min.insync.replicas"] = str(2 if settings.topic_replication >= 3 else 1)
    return configs


async def create_topics(
    settings: Settings, topics: list[str], partitions: int | None = None
) -> list[str]:
    """Create the missing topics; existing ones are left as they are. Returns those created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-admin",
        **client_security(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        count = partitions or settings.topic_partitions
        for topic in missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            topic,
                            num_partitions=count,
                            replication_factor=settings.topic_replication,
                            topic_configs=topic_configs(settings),
                        )
                    ]
                )
            except TopicAlreadyExistsError:
                pass
        return missing
    finally:
        await admin.close()
