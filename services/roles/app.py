"""The composition root shared by the role services: `build_role_app(role, settings,
rules)` wires the role topic and `kefu.orders` into one batch subscriber, the firing of
their timers into a background loop sharing its lock, and declares the outputs. Nothing
connects here."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from functools import lru_cache

from prometheus_client import Histogram

from contracts import Assignment, DeadLetter, Escalation, Role, role_topic, topics
from services.core.group_generation import generation_of, is_current
from services.core.policy import ShopPolicy, load_policy
from services.core.progress import PartitionProgress
from services.core.retry import retry_transient
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.core.stage_watermarks import StageWatermarks
from services.core.timers.partitioned import PartitionTimers
from services.roles.batches import RoleBatches
from services.roles.firing import Firing
from services.roles.handler import RoleHandler
from services.roles.keys import RoleKeys
from services.roles.redis_store import RedisRoleStore
from services.roles.rules import Rules


def build_role_app(role: Role, settings: Settings, rules: Rules) -> ServiceRuntime:
    name = role.value
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime(name, settings.model_copy(
        update={"consumer_max_records": settings.roles_max_records}))

    @lru_cache(maxsize=4096)
    def policy_for(shop: str) -> ShopPolicy:
        return policy.for_shop(shop)

    def sticky_ttl_ms(shop: str) -> int:
        return int(policy_for(shop).assignment.sticky_window.total_seconds() * 1000)

    runtime.publisher(topics.ASSIGNMENTS, schema=Assignment,
                      description=f"Which {name} agent handles a conversation (null: queued)")
    runtime.publisher(topics.ESCALATIONS, schema=Escalation,
                      description=f"{name} SLA warnings, breaches, their corrections and "
                      "raised escalations")
    runtime.publisher(topics.DLQ, schema=DeadLetter, description=f"Input {name} cannot process")
    timers = PartitionTimers(runtime.redis, name)
    store = RedisRoleStore(runtime.redis, RoleKeys(name), timers,
                           key_ttl_ms=int(settings.context_ttl.total_seconds() * 1000),
                           dedup_ttl_s=int(settings.dedup_window.total_seconds()),
                           sticky_ttl_ms=sticky_ttl_ms)
    trips = Histogram("kefu_role_batch_redis_round_trips",
                      "Redis round trips per batch (load, reservations, timers, state)",
                      registry=runtime.metrics.registry, buckets=(1, 2, 3, 4, 5, 6, 8, 12))
    batches = RoleBatches(role=name, store=store, rules=rules, policy_for=policy_for,
                          round_trips=trips.observe)
    grace_ms = int(settings.sla_grace.total_seconds() * 1000)
    progress, lock = PartitionProgress(grace_ms=grace_ms), asyncio.Lock()
    handler = RoleHandler(role=name, batches=batches, metrics=runtime.metrics,
                          max_event_bytes=settings.max_event_bytes, grace_ms=grace_ms,
                          fed_by_upstream=progress.fed_by_upstream)
    async def fence_previous_owners(partitions: set) -> None:
        """Raise the generation of each partition given to this process, before reading
        it: a previous owner that still runs (paused past its session) writes nothing
        more (services/core/timers/partitioned.py, Fencing). The group's generation of
        this assignment goes with it, so that a take Redis only accepts after the group
        moved on (it refused writes meanwhile) cannot fence the partition's next owner."""
        shards = {f"{tp.topic}:{tp.partition}" for tp in partitions}
        consumer = subscription.kafka_consumer()
        group = generation_of(consumer)

        async def proven() -> bool:
            return group is not None and await is_current(consumer, group)

        await retry_transient(lambda: timers.take(shards, group, proven),
                              stopping=runtime.stopping,
                              cap=settings.retry_max_backoff.total_seconds())

    subscription = runtime.batch_subscriber(
        role_topic(role), topics.ORDERS, handler=handler, progress=progress, lock=lock,
        on_assigned=fence_previous_owners,
        pipelined=True,  # RoleBatches lays the previous batch's unwritten changes over reads
        description=f"{name} conversations and agents, plus order and case events",
    )
    firing = Firing(
        role=name, timers=timers, batches=batches, progress=progress,
        consumer_of=subscription.kafka_consumer, quiesce=subscription.consumer.quiesce,
        upstream=StageWatermarks(runtime.redis),
        publish=runtime.publish, lock=lock, stopping=runtime.stopping,
        owner=f"{name}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        lease=settings.timer_lease.total_seconds(),
        poll_interval=settings.timer_poll_interval.total_seconds(), lag=runtime.lag,
        fetch_wait_ms=settings.consumer_fetch_max_wait_ms,
        max_backoff=settings.retry_max_backoff.total_seconds(),
    )
    runtime.background(firing.run)
    runtime.ready_when("timers", lambda: firing.healthy)
    return runtime
