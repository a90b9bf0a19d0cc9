"""The analytics service's API, as the console's charts read it (server side, with the
analytics token: the browser never holds it). When the service does not answer, the
charts say so; they never show figures of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

SERIES = ("first_response_p50", "first_response_p90", "within_3m_rate")


class AnalyticsDown(Exception):
    """The analytics API did not answer (not running, or refused the console's token)."""


class AnalyticsClient:
    def __init__(self, url: str, token: str | None, timeout_s: float = 10.0) -> None:
        self.url, self.token = url.rstrip("/"), token or ""
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    async def _get(self, path: str, params: dict) -> tuple[bytes, str]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._http.get(f"{self.url}{path}", params=params, headers={
                    "Authorization": f"Bearer {self.token}"}) as resp:
                if resp.status != 200:
                    raise AnalyticsDown(f"analytics answered HTTP {resp.status}")
                return await resp.read(), resp.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AnalyticsDown(str(exc)) from None

    async def charts(self, shop: str, now: datetime | None = None) -> dict:
        """The shop's report (last 7 days) and hourly series of the last 2 days."""
        import orjson

        now = now or datetime.now(UTC)
        report, _ = await self._get("/api/v1/report", {"shop": shop})
        since = (now - timedelta(days=2)).isoformat()
        series = {}
        for metric in SERIES:
            body, _ = await self._get("/api/v1/series", {"shop": shop, "metric": metric,
                                                         "step": "1h", "from": since})
            series[metric] = orjson.loads(body)
        return {"report": orjson.loads(report), "series": series}

    async def agents_csv(self, shop: str) -> bytes:
        body, _ = await self._get("/api/v1/report", {"shop": shop, "by": "agent",
                                                      "format": "csv"})
        return body

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
