"""Transient failures (Redis or the broker unreachable) are retried with backoff and
never committed as done; anything else is a processing error for the DLQ."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.core.waiting import wait_event

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ReadOnlyError,
    OutOfMemoryError,  # maxmemory reached under noeviction: Redis refuses writes for now
    NoPermissionError,  # an ACL changed under us: an operator must act, nothing may be lost
    TryAgainError,
    ClusterDownError,
    MasterDownError,
    NoScriptError,
    KafkaError,
    ConnectionError,
    TimeoutError,
)
"""Failures of Redis or the broker to wait out: the work is retried, never committed as
done meanwhile. The one list every retry loop of kefu uses."""

NEVER_FITS = (MessageSizeTooLargeError, RecordTooLargeError)
"""A record the broker will never take, however often it is sent."""

REFUSING_WRITES = ("MISCONF",)
"""Reply prefixes of a Redis that refuses writes (failed RDB/AOF persistence) without a
class of its own in redis-py."""


class ShuttingDown(Exception):
    """Raised instead of retrying once the service is stopping: the work is abandoned
    uncommitted and will be redelivered."""


class Fenced(ShuttingDown):
    """A newer owner of the partition wrote first (this process lost it, while paused
    say): its work is abandoned uncommitted, as at shutdown; the new owner redoes it."""


def backoff(attempt: int, base: float, cap: float, *, floor: float = 0.0,
            rand: Callable[[], float] = random.random) -> float:
    """The delay after failed attempt `attempt` (1-based): d = base * 2**(attempt - 1),
    capped at `cap`, drawn uniformly from [floor * d, d] (jitter, so that replicas that
    failed together do not retry together). Every retry loop of kefu uses it."""
    d = min(cap, base * 2 ** min(attempt - 1, 60))
    return d * (floor + (1 - floor) * rand())


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, NEVER_FITS):
        return False
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(REFUSING_WRITES)


async def retry_transient(
    step: Callable[[], Awaitable[T]],
    *,
    stopping: asyncio.Event,
    on_retry: Callable[[BaseException, int, float], None] | None = None,
    base: float = 0.1,
    cap: float = 30.0,
    every_failure: bool = False,
) -> T:
    """Run `step` until it succeeds; sleep with full-jitter exponential backoff between
    transient failures (`every_failure`: between any failures, for work that must not be
    skipped); raise `ShuttingDown` if `stopping` is set meanwhile."""
    attempt = 0
    while True:
        if stopping.is_set():
            raise ShuttingDown()
        try:
            return await step()
        except ShuttingDown:
            raise
        except Exception as exc:
            if not every_failure and not is_transient(exc):
                raise
            attempt += 1
            delay = backoff(attempt + 1, base, cap)
            if on_retry is not None:
                on_retry(exc, attempt, delay)
            if not await wait_event(stopping, delay):
                continue
