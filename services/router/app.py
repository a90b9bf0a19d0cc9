"""Composition root of the router: consumes kefu.inbound, publishes role topics,
kefu.orders and kefu.dlq."""

from __future__ import annotations

from functools import lru_cache

from contracts import topics
from contracts.outputs import DeadLetter
from contracts.routed import RoutedEvent
from services.core.policy import Policy, PolicyError, load_policy
from services.core.progress import PartitionProgress
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.core.stage_watermarks import StageWatermarks
from services.router.classify import classifier_for
from services.router.classify.model import ModelError, cached_model
from services.router.handler import RouterHandler
from services.router.watermarks import RouterWatermarks


def load_shop_models(policy: Policy) -> None:
    """Load every model file the policy names, once, now: a missing or bad file stops
    start-up with a PolicyError naming the shop's `routing.model` key."""
    errors = []
    for shop, shop_policy in [("default", policy.default), *policy.shops.items()]:
        if shop_policy.routing.model:
            try:
                cached_model(shop_policy.routing.model)
            except ModelError as e:
                errors.append(f"{policy.source}: shops.{shop}.routing.model: {e}")
    if errors:
        raise PolicyError(errors)


def create_app(settings: Settings) -> ServiceRuntime:
    policy = load_policy(settings.policy_file)
    load_shop_models(policy)
    runtime = ServiceRuntime("router", settings)

    @lru_cache(maxsize=4096)
    def shop_classifier(shop_id: str):
        routing = policy.for_shop(shop_id).routing
        return classifier_for(routing.keywords, routing.model)

    # built now, not in the first batch
    classifier_for(policy.default.routing.keywords, policy.default.routing.model)

    runtime.publisher(
        topics.ROLE_PRESALE,
        schema=RoutedEvent,
        description="Pre-sale conversation events with routing",
    )
    runtime.publisher(
        topics.ROLE_AFTERSALE,
        schema=RoutedEvent,
        description="After-sale conversation events with routing",
    )
    runtime.publisher(
        topics.ORDERS,
        description="Validated order, logistics, after-sale and "
        "review envelopes, keyed by order_id",
    )
    runtime.publisher(topics.DLQ, schema=DeadLetter, description="Invalid inbound events")
    grace_ms = int(settings.sla_grace.total_seconds() * 1000)
    handler = RouterHandler(
        redis=runtime.redis,
        classifier_for=shop_classifier,
        metrics=runtime.metrics,
        max_event_bytes=settings.max_event_bytes,
        context_ttl=int(settings.context_ttl.total_seconds()),
        dedup_ttl=int(settings.dedup_window.total_seconds()),
        grace_ms=grace_ms,
    )
    progress = PartitionProgress(grace_ms=grace_ms)
    subscription = runtime.batch_subscriber(
        topics.INBOUND,
        handler=handler,
        description="Every inbound event from shops and integrators",
        pipelined=True,  # RouterContext starts from the previous batch's pending writes
        progress=progress,
    )
    watermarks = RouterWatermarks(
        progress=progress, board=StageWatermarks(runtime.redis),
        consumer_of=subscription.kafka_consumer, stopping=runtime.stopping,
        interval=settings.timer_poll_interval.total_seconds(), lag=runtime.lag)
    runtime.stamp = watermarks.current
    runtime.background(watermarks.run)
    return runtime
