"""Logging in to the console over plain HTTP (no browser), as a script would."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request


def logged_in(url: str, name: str, password: str) -> urllib.request.OpenerDirector:
    """An opener holding the session cookie, after the login form (and its CSRF token)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{url.rstrip('/')}/login", timeout=10) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"name": name, "password": password,
                                   "csrf_token": token}).encode()
    with opener.open(f"{url.rstrip('/')}/login", data=form, timeout=10) as landed:
        assert landed.url.rstrip("/") == url.rstrip("/"), f"login failed: {landed.url}"
    return opener


def live(opener: urllib.request.OpenerDirector, url: str, shop: str) -> dict:
    with opener.open(f"{url.rstrip('/')}/api/v1/live?shop={shop}", timeout=10) as answer:
        return json.loads(answer.read())


async def signed_in(client, name: str, password: str) -> None:
    """Log an `httpx.AsyncClient` (based at the console) in through the login form."""
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    landed = await client.post("/login", data={"name": name, "password": password,
                                               "csrf_token": token})
    assert landed.headers.get("location") == "/", f"login failed: {landed.status_code}"
