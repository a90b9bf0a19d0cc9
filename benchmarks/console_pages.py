"""Open console pages for the console benchmark: logged-in aiohttp clients reading the
live board's server-sent events, noting when each marker agent first appears."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

MARKER = re.compile(r'data-agent="(mark-\d+)"')


async def login(base: str, name: str, password: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 timeout=aiohttp.ClientTimeout(total=None, sock_read=60))
    async with http.get(f"{base}/login") as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
    async with http.post(f"{base}/login", data={"name": name, "password": password,
                                                  "csrf_token": token}) as landed:
        if landed.status != 200:
            raise RuntimeError(f"login of {name} failed: HTTP {landed.status}")
    return http


class PageReader:
    """One open page: reads the stream, records when each marker agent was first seen."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.events = 0
        self.connected = asyncio.Event()

    async def run(self, http: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
        async with http.get(url) as stream:
            if stream.status != 200:
                raise RuntimeError(f"stream answered HTTP {stream.status}")
            self.connected.set()
            name, data = "", []
            while not stop.is_set():
                line = (await stream.content.readline()).decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and data:
                    self.events += 1
                    if name == "agents":
                        now = time.time()
                        for marker in MARKER.findall("".join(data)):
                            self.seen.setdefault(marker, now)
                    name, data = "", []
