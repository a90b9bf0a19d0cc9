"""A stand-in for a ClickHouse server: the HTTP interface (query in the body or the
`query` parameter, `param_<name>` bindings, settings as URL parameters, `database`,
`default_format`, errors as HTTP 500 with ClickHouse's text) answered by chDB in this
process. It lets the real clickhouse-connect client, and so `ServerStore`, run against
the real ClickHouse engine where no server can be started. What it does not cover:
compression, sessions, authentication, clusters."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import chdb

HTTP_ONLY = {"query", "database", "default_format", "client_protocol_version", "session_id",
             "query_id", "compress", "decompress", "user", "password", "session_timeout"}


class ClickHouseHttp:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries: list[str] = []
        self.down = False  # answer nothing: the server is unreachable
        handler = type("Handler", (_Handler,), {"owner": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ClickHouseHttp:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def run(self, params: dict[str, str], body: bytes) -> bytes:
        query = params.get("query", "")
        text = (query + ("\n" if query and body else "")).encode() + body if query else body
        settings = {k: v for k, v in params.items()
                    if k not in HTTP_ONLY and not k.startswith("param_")}
        options = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in settings.items())
        conn = chdb.connect(f"{self.path}?{options}" if options else str(self.path))
        try:
            if params.get("database"):
                conn.query(f"USE {params['database']}")
            self.queries.append(text.decode("utf-8", "replace"))
            bindings = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
            result = conn.query(text.decode(), params.get("default_format", "TabSeparated"),
                                params=bindings)
            return result.bytes()
        finally:
            conn.close()


class _Handler(BaseHTTPRequestHandler):
    owner: ClickHouseHttp

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if self.owner.down:
            self.connection.close()
            return
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            answer, status = self.owner.run(params, body), 200
        except RuntimeError as exc:  # ClickHouse's message, as a server sends it
            answer, status = str(exc).encode(), 500
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("X-ClickHouse-Format", params.get("default_format", "TabSeparated"))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST

    def log_message(self, *args) -> None:
        pass
