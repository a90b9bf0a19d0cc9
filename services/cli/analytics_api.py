"""How `kefu report` and `kefu sql` reach the analytics service's API: `--api` (or
`KEFU_ANALYTICS_API`), else the address `kefu up` wrote to `<data-dir>/analytics.json`,
else http://127.0.0.1:8085; the token from `--token`, `KEFU_ANALYTICS_TOKEN` or that
file."""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DEFAULT_API = "http://127.0.0.1:8085"
API_FILE = "analytics.json"


class ApiError(Exception):
    def __init__(self, message: str, *, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage  # the caller's mistake (exit 2), else the service's (exit 1)


def add_api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", help=f"the analytics API (default: KEFU_ANALYTICS_API, the "
                        f"address kefu up wrote, else {DEFAULT_API})")
    parser.add_argument("--token", help="API token (default: KEFU_ANALYTICS_TOKEN or kefu up's)")
    parser.add_argument("--data-dir", type=Path, default=Path("var"),
                        help="where kefu up keeps its data (default ./var)")


def endpoint(args: argparse.Namespace) -> tuple[str, str]:
    written = {}
    path = args.data_dir / API_FILE
    if path.is_file():
        written = json.loads(path.read_text(encoding="utf-8"))
    url = args.api or os.environ.get("KEFU_ANALYTICS_API") or written.get("url") or DEFAULT_API
    token = args.token or os.environ.get("KEFU_ANALYTICS_TOKEN") or written.get("token") or ""
    return url.rstrip("/"), token


def call(args: argparse.Namespace, path: str, *, params: dict | None = None,
         body: dict | None = None) -> bytes:
    url, token = endpoint(args)
    query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
    request = urllib.request.Request(
        f"{url}{path}" + (f"?{query}" if query else ""),
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        detail = _detail(error.read())
        raise ApiError(f"{detail} (HTTP {error.code})", usage=error.code < 500) from None
    except (urllib.error.URLError, OSError) as error:
        raise ApiError(f"cannot reach the analytics API at {url}: {error}; is the service "
                       "running (kefu up, kefu run analytics)? see --api", usage=False) from None


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:500]
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg')}"
                         for d in detail)
    return str(detail)
