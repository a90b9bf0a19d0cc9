"""The composition root shared by the role services: `build_role_app(role, settings,
rules)` wires the role topic and `kefu.orders` into one batch subscriber, the timer runner
into a background loop, and declares the outputs. Nothing connects here."""

from __future__ import annotations

import os
import socket
import uuid
from functools import lru_cache

from contracts import Assignment, DeadLetter, Escalation, Role, role_topic, topics
from services.core.policy import ShopPolicy, load_policy
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.core.timers import TimerRunner, TimerStore
from services.roles.firing import TimerFire
from services.roles.handler import RoleHandler
from services.roles.keys import RoleKeys
from services.roles.ledger import Ledger
from services.roles.rules import Rules


def build_role_app(role: Role, settings: Settings, rules: Rules) -> ServiceRuntime:
    name = role.value
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime(name, settings)

    @lru_cache(maxsize=4096)
    def policy_for(shop: str) -> ShopPolicy:
        return policy.for_shop(shop)

    runtime.publisher(topics.ASSIGNMENTS, schema=Assignment,
                      description=f"Which {name} agent handles a conversation (null: queued)")
    runtime.publisher(topics.ESCALATIONS, schema=Escalation,
                      description=f"{name} SLA warnings, breaches and raised escalations")
    runtime.publisher(topics.DLQ, schema=DeadLetter, description=f"Input {name} cannot process")
    key_ttl_ms = int(settings.context_ttl.total_seconds() * 1000)
    ledger = Ledger(runtime.redis, RoleKeys(name), key_ttl_ms=key_ttl_ms)
    store = TimerStore(runtime.redis, name, shards=settings.timer_shards)
    handler = RoleHandler(
        role=name, ledger=ledger, timers=store, rules=rules, policy_for=policy_for,
        metrics=runtime.metrics, dedup_ttl=int(settings.dedup_window.total_seconds()),
        key_ttl_ms=key_ttl_ms, max_event_bytes=settings.max_event_bytes,
    )
    runtime.batch_subscriber(
        role_topic(role), topics.ORDERS, handler=handler,
        description=f"{name} conversations and agents, plus order and case events",
    )
    fire = TimerFire(role=name, ledger=ledger, publish=runtime.publish, policy_for=policy_for)
    owner = f"{name}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    runner = TimerRunner(store, fire, owner=owner, stopping=runtime.stopping,
                         lease=settings.timer_lease.total_seconds(),
                         poll_interval=settings.timer_poll_interval.total_seconds())
    runtime.background(runner.run)
    return runtime
