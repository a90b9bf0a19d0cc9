"""Support for the gateway's tests: signed requests as an integrator sends them, and
small fakes of its ports (claims, writer, probe) that record what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import orjson
from redis.exceptions import ConnectionError as RedisConnectionError

from services.gateway.claims import CLAIM_LEASE, ClaimState, EventRef
from services.gateway.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

JSON = "application/json"
NDJSON = "application/x-ndjson"


def ndjson(events: Sequence[dict | bytes]) -> bytes:
    return b"\n".join(e if isinstance(e, bytes) else orjson.dumps(e) for e in events) + b"\n"


def signed_headers(secret: str, body: bytes, media: str, *, at: float | None = None) -> dict:
    timestamp = str(int(time.time() if at is None else at))
    return {"Content-Type": media, TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body)}


class Integrator:
    """An HTTPS client of the gateway with one secret."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.secret = secret
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60)

    async def send(self, events: dict | Sequence[dict | bytes], *, secret: str | None = None,
                   at: float | None = None) -> httpx.Response:
        """One event as JSON, or a list as NDJSON, signed now (or `at`)."""
        if isinstance(events, dict):
            body, media = orjson.dumps(events), JSON
        else:
            body, media = ndjson(events), NDJSON
        return await self.post(body, media, secret=secret, at=at)

    async def post(self, body: bytes, media: str, *, secret: str | None = None,
                   at: float | None = None, signed_body: bytes | None = None,
                   ) -> httpx.Response:
        """`signed_body` signs other bytes than those sent (a body changed on the way)."""
        headers = signed_headers(secret or self.secret, signed_body or body, media, at=at)
        return await self.http.post("/v1/events", content=body, headers=headers)

    async def close(self) -> None:
        await self.http.aclose()


@asynccontextmanager
async def integrator(gateway, secret: str) -> AsyncIterator[Integrator]:
    """An Integrator of a running gateway (its ServiceRuntime)."""
    client = Integrator(f"http://127.0.0.1:{gateway.health.port}", secret)
    try:
        yield client
    finally:
        await client.close()


# --- fakes of the gateway's ports --------------------------------------------------------


class FakeClaims:
    """The claim rules of services.gateway.claims (its Lua), in a dict."""

    lease = CLAIM_LEASE

    def __init__(self) -> None:
        self.marks: dict[EventRef, str] = {}
        self.routed: set[EventRef] = set()
        self.down = False

    async def claim(self, events: Sequence[EventRef], token: str) -> list[ClaimState]:
        self._check()
        states = []
        for ref in events:
            mark = self.marks.get(ref)
            if ref in self.routed:
                states.append(ClaimState.ROUTED)
            elif mark is None:
                self.marks[ref] = f"pending:{token}"
                states.append(ClaimState.CLAIMED)
            else:
                states.append(ClaimState.ACCEPTED if mark == "accepted" else ClaimState.BUSY)
        return states

    async def confirm(self, events: Sequence[EventRef], token: str) -> None:
        self._check()
        for ref in events:
            if self.marks.get(ref) in (None, f"pending:{token}"):
                self.marks[ref] = "accepted"

    async def release(self, events: Sequence[EventRef], token: str) -> None:
        self._check()
        for ref in events:
            if self.marks.get(ref) == f"pending:{token}":
                del self.marks[ref]

    async def renew(self, events: Sequence[EventRef], token: str) -> None:
        self._check()  # a pending mark here never lapses

    def _check(self) -> None:
        if self.down:
            raise RedisConnectionError("fake Redis is down")


class FakeWriter:
    """Records what it was asked to write. `hold` keeps the acks back until set;
    `fail_keys` are records the broker does not take."""

    def __init__(self) -> None:
        self.written: list[tuple[bytes, bytes]] = []
        self.hold: asyncio.Event | None = None
        self.fail_keys: set[bytes] = set()
        self.started = asyncio.Event()
        """Set once a write began (its events are claimed, its bytes held)."""

    async def write(self, records: Sequence[tuple[bytes, bytes]]) -> list[bool]:
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        acked = [key not in self.fail_keys for key, _ in records]
        self.written += [record for record, ok in zip(records, acked, strict=True) if ok]
        return acked


class FakeBroker:
    """The probe's check: reachable or not, and how often it was asked."""

    def __init__(self) -> None:
        self.up = True
        self.asked = 0

    async def check(self) -> bool:
        self.asked += 1
        return self.up
