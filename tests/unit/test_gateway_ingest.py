"""One ingest request from headers to answer, on fakes of Redis and the broker: what
the integrator is told, what is written, and what the marks say afterwards."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from contracts import example
from services.gateway.auth import IngestSecrets, RequestAuth
from services.gateway.budget import InFlightBudget
from services.gateway.delivery import Delivery
from services.gateway.ingest import Incoming, Ingest, Limits
from services.gateway.probe import BrokerProbe
from tests.support.gateway import (
    JSON,
    NDJSON,
    FakeBroker,
    FakeClaims,
    FakeWriter,
    ndjson,
    signed_headers,
)

SECRET = "the-secret"


class Gateway:
    def __init__(self, *, budget: int = 1 << 20, ack_timeout: float = 5.0,
                 own_secrets: dict[str, tuple[bytes, ...]] | None = None) -> None:
        self.claims, self.writer, self.broker = FakeClaims(), FakeWriter(), FakeBroker()
        self.budget = InFlightBudget(budget)
        self.delivery = Delivery(self.claims, self.writer)
        secrets = IngestSecrets(named=own_secrets or {}, default=(SECRET.encode(),))
        self.ingest = Ingest(
            auth=RequestAuth(secrets), delivery=self.delivery,
            probe=BrokerProbe(self.broker.check, max_age=0), budget=self.budget,
            limits=Limits(max_batch=5, max_body_bytes=64 * 1024, max_event_bytes=8 * 1024,
                          ack_timeout=ack_timeout),
        )

    async def post(self, body: bytes, media: str = NDJSON, *, secret: str = SECRET,
                   length: int | None = -1, at: float | None = None):
        headers = signed_headers(secret, body, media, at=at)

        async def read(limit: int) -> bytes | None:
            return body if len(body) <= limit else None

        return await self.ingest.handle(Incoming(
            content_type=media, content_length=len(body) if length == -1 else length,
            timestamp=headers["X-Kefu-Timestamp"], signature=headers["X-Kefu-Signature"],
            read=read,
        ))


def events(n: int, shop: str = "shop-1", prefix: str = "e") -> list[dict]:
    return [example("buyer.message", event_id=f"{prefix}{i}", shop_id=shop,
                    payload={"conversation_id": f"c{i}"}) for i in range(n)]


def statuses(answer) -> list[str]:
    return [r["status"] for r in answer.body["results"]]


async def test_a_batch_is_written_and_accepted_per_index() -> None:
    gw = Gateway()
    answer = await gw.post(ndjson(events(3)))
    assert answer.status == 202
    assert answer.body["accepted"] == 3 and statuses(answer) == ["accepted"] * 3
    assert [r["index"] for r in answer.body["results"]] == [0, 1, 2]
    assert [key for key, _ in gw.writer.written] == [b"c0", b"c1", b"c2"]
    assert set(gw.claims.marks.values()) == {"accepted"}
    assert gw.budget.used == 0


async def test_a_resend_is_answered_duplicate_and_written_once() -> None:
    gw = Gateway()
    body = ndjson(events(2))
    await gw.post(body)
    again = await gw.post(body)
    assert again.status == 202 and statuses(again) == ["duplicate"] * 2
    assert again.body["duplicates"] == 2 and len(gw.writer.written) == 2


async def test_an_event_the_router_saw_is_a_duplicate() -> None:
    gw = Gateway()
    gw.claims.routed.add(("shop-1", "e0"))
    answer = await gw.post(ndjson(events(2)))
    assert statuses(answer) == ["duplicate", "accepted"]
    assert answer.body["results"][0]["detail"] == "already received and routed"


async def test_a_partial_batch_accepts_the_valid_events() -> None:
    gw = Gateway()
    bad = example("order.paid", event_id="bad", shop_id="shop-1", occurred_at="2026-11-22T08:00")
    answer = await gw.post(ndjson([events(1)[0], orjson.dumps(bad), b"{oops"]))
    assert answer.status == 202
    assert [(r["status"], r.get("reason")) for r in answer.body["results"]] == [
        ("accepted", None), ("rejected", "naive_timestamp"), ("rejected", "invalid_json")]
    assert answer.body["results"][1]["event_id"] == "bad"
    assert len(gw.writer.written) == 1


async def test_nothing_valid_is_422_and_nothing_is_written() -> None:
    gw = Gateway()
    answer = await gw.post(b"{oops", JSON)
    assert answer.status == 422 and answer.body["rejected"] == 1
    assert not gw.writer.written and not gw.claims.marks


@pytest.mark.parametrize("case", ["wrong secret", "uncovered shop in an invalid event"])
async def test_401_writes_nothing(case) -> None:
    gw = Gateway(own_secrets={"shop-2": (b"other",)})
    if case == "wrong secret":
        answer = await gw.post(ndjson(events(2)), secret="guess")
    else:
        stranger = example("buyer.message", shop_id="shop-2", event_id="x", occurred_at="now")
        answer = await gw.post(ndjson([*events(2), orjson.dumps(stranger)]))
    assert answer.status == 401 and answer.body["error"] == "unauthorized"
    assert not gw.writer.written and not gw.claims.marks


async def test_size_and_media_refusals() -> None:
    gw = Gateway()
    assert (await gw.post(b"x" * 70_000, length=70_000)).status == 413  # declared
    assert (await gw.post(b"x" * 70_000, length=None)).status == 413  # streamed
    assert (await gw.post(ndjson(events(6)))).body["error"] == "too_many_events"
    assert (await gw.post(ndjson(events(1)), "text/csv")).status == 415
    assert gw.budget.used == 0 and not gw.writer.written


async def test_over_the_in_flight_budget_is_429() -> None:
    gw = Gateway(budget=100_000)
    body = ndjson(events(1))
    gw.writer.hold = asyncio.Event()
    first = asyncio.create_task(gw.post(body))
    await gw.writer.started.wait()  # the first request holds its bytes: the broker is slow
    gw.budget.limit = gw.budget.used + len(body) - 1
    refused = await gw.post(ndjson(events(1, prefix="f")))
    assert refused.status == 429 and refused.retry_after == 1
    gw.writer.hold.set()
    assert (await first).status == 202
    assert gw.budget.used == 0


async def test_an_event_another_request_is_writing_is_429_not_duplicate() -> None:
    gw = Gateway()
    gw.writer.hold = asyncio.Event()
    first = asyncio.create_task(gw.post(ndjson(events(1))))
    await gw.writer.started.wait()
    answer = await gw.post(ndjson([*events(1, prefix="other"), *events(1)]))
    assert answer.status == 429 and answer.body["error"] == "in_progress"
    assert ("shop-1", "other0") not in gw.claims.marks  # its own claim was given back
    gw.writer.fail_keys = {b"c0"}  # ... and the first request fails after all
    gw.writer.hold.set()
    assert (await first).status == 503
    gw.writer.fail_keys = set()
    retry = await gw.post(ndjson(events(1)))
    assert retry.status == 202 and statuses(retry) == ["accepted"]


async def test_late_acks_are_429_and_the_write_still_settles() -> None:
    gw = Gateway(ack_timeout=0.01)
    gw.writer.hold = asyncio.Event()
    body = ndjson(events(2))
    answer = await gw.post(body)
    assert answer.status == 429 and answer.body["error"] == "broker_slow"
    assert gw.budget.used > 0  # held until the broker answers
    gw.writer.hold.set()
    await gw.delivery.drain(timeout=5)
    assert gw.budget.used == 0 and set(gw.claims.marks.values()) == {"accepted"}
    assert statuses(await gw.post(body)) == ["duplicate"] * 2


async def test_broker_down_is_503_and_nothing_is_claimed() -> None:
    gw = Gateway()
    gw.broker.up = False
    answer = await gw.post(ndjson(events(2)))
    assert answer.status == 503 and answer.body["error"] == "broker_unavailable"
    assert not gw.claims.marks and not gw.writer.written


async def test_late_acks_from_a_gone_broker_are_503() -> None:
    gw = Gateway(ack_timeout=0.01)
    gw.writer.hold = asyncio.Event()
    gw.broker.up = True
    task = asyncio.create_task(gw.post(ndjson(events(1))))
    await gw.writer.started.wait()
    gw.broker.up = False
    assert (await task).status == 503
    gw.writer.fail_keys = {b"c0"}
    gw.writer.hold.set()
    await gw.delivery.drain(timeout=5)
    assert not gw.claims.marks  # not written: released, a resend is written


async def test_a_partly_written_batch_is_503_and_a_resend_completes_it() -> None:
    gw = Gateway()
    gw.writer.fail_keys = {b"c1"}
    body = ndjson(events(3))
    assert (await gw.post(body)).status == 503
    gw.writer.fail_keys = set()
    retry = await gw.post(body)
    assert statuses(retry) == ["duplicate", "accepted", "duplicate"]
    assert sorted(key for key, _ in gw.writer.written) == [b"c0", b"c1", b"c2"]


async def test_redis_down_is_503_and_nothing_is_written() -> None:
    gw = Gateway()
    gw.claims.down = True
    answer = await gw.post(ndjson(events(1)))
    assert answer.status == 503 and answer.body["error"] == "redis_unavailable"
    assert not gw.writer.written


async def test_an_old_signature_is_refused() -> None:
    gw = Gateway()
    answer = await gw.post(ndjson(events(1)), at=time.time() - 600)
    assert answer.status == 401 and "300 s" in answer.body["detail"]
