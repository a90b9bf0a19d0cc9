"""`kefu up`'s machinery: the embedded broker and Redis, the services as child
processes, readiness polling and a clean stop that leaves no process behind."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port


@dataclass
class Child:
    service: str
    http_port: int
    log_path: Path
    proc: subprocess.Popen
    replica: int = 0

    @property
    def name(self) -> str:
        return self.name_of(self.service, self.replica)

    @staticmethod
    def name_of(service: str, replica: int) -> str:
        """`router` for the first replica of a service, `router-2` for the second."""
        return service if replica == 0 else f"{service}-{replica + 1}"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/readyz"


@dataclass
class LocalStack:
    data_dir: Path
    services: list[str]
    policy_file: Path | None = None
    kafka_port: int | None = None
    redis_port: int | None = None
    partitions: int = 3
    broker: EmbeddedBroker = field(init=False)
    redis: EmbeddedRedis = field(init=False)
    children: list[Child] = field(default_factory=list)
    analytics_token: str = field(init=False)
    console_secret: str = field(init=False)
    ingest_secret: str = field(init=False)
    ports: dict[str, int] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)  # service -> processes (default 1)
    extra_env: dict[str, str] = field(default_factory=dict)  # for every service process

    def __post_init__(self) -> None:
        # The analytics API's admin token, the console's signing key and the gateway's
        # ingest secret: yours, else fresh ones for this run.
        self.analytics_token = os.environ.get("KEFU_ANALYTICS_TOKEN") or secrets.token_urlsafe(24)
        self.console_secret = os.environ.get("KEFU_CONSOLE_SECRET") or secrets.token_urlsafe(32)
        self.ingest_secret = os.environ.get("KEFU_INGEST_SECRET") or secrets.token_urlsafe(24)
        self.ports = {service: free_port() for service in self.services}
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(
            port=self.kafka_port or free_port(), log_path=logs / "broker.log"
        )
        self.redis = EmbeddedRedis(
            port=self.redis_port or free_port(),
            data_dir=self.data_dir / "redis",
            log_path=logs / "redis.log",
            aof=True,
        )

    def env(self, http_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KEFU_KAFKA_BOOTSTRAP=self.broker.bootstrap,
            KEFU_REDIS_URL=self.redis.url,
            KEFU_HTTP_PORT=str(http_port),
            KEFU_TOPIC_PARTITIONS=str(self.partitions),
            KEFU_LOG_FORMAT="json",
            KEFU_ANALYTICS_DATA_DIR=str(self.data_dir / "analytics"),
            KEFU_ANALYTICS_TOKEN=self.analytics_token,
            KEFU_CONSOLE_SECRET=self.console_secret,
            KEFU_INGEST_SECRET=self.ingest_secret,
        )
        env.update(self.extra_env)
        if "analytics" in self.ports:
            env["KEFU_ANALYTICS_API"] = f"http://127.0.0.1:{self.ports['analytics']}"
        if self.policy_file:
            env["KEFU_POLICY_FILE"] = str(self.policy_file.resolve())
        return env

    def start_servers(self) -> None:
        self.broker.start()
        self.redis.start()

    def start_services(self) -> None:
        for service in self.services:
            for replica in range(self.replicas.get(service, 1)):
                port = self.ports[service] if replica == 0 else free_port()
                log_path = self.data_dir / "logs" / f"{Child.name_of(service, replica)}.log"
                proc = self._spawn(service, port, log_path)
                self.children.append(Child(service, port, log_path, proc, replica))

    def restart(self, child: Child) -> None:
        """Start a child that has exited again, on the same port and log (a supervisor's
        restart)."""
        child.proc = self._spawn(child.service, child.http_port, child.log_path)

    def _spawn(self, service: str, http_port: int, log_path: Path) -> subprocess.Popen:
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "services.cli.main", "run", service],
                env=self.env(http_port),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def write_analytics_api(self) -> Path | None:
        """`<data-dir>/analytics.json`: where `kefu report` finds the API and its token."""
        child = next((c for c in self.children if c.service == "analytics"), None)
        if child is None:
            return None
        path = self.data_dir / "analytics.json"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps({"url": f"http://127.0.0.1:{child.http_port}",
                                    "token": self.analytics_token}))
        return path

    def write_console_file(self) -> Path | None:
        """`<data-dir>/console.json`: the console's address, and the Redis that holds its
        users (`kefu users` finds it there)."""
        if "console" not in self.ports:
            return None
        path = self.data_dir / "console.json"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps({"url": f"http://127.0.0.1:{self.ports['console']}/",
                                    "redis_url": self.redis.url}))
        return path

    def dead_children(self) -> list[Child]:
        return [c for c in self.children if c.proc.poll() is not None]

    async def wait_ready(self, timeout: float = 120.0) -> list[Child]:
        """Poll every child's /readyz; returns the children that died (empty when ready)."""
        pending = {c.name: c for c in self.children}
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while pending and time.monotonic() < deadline:
                dead = self.dead_children()
                if dead:
                    return dead
                for name, child in list(pending.items()):
                    try:
                        async with http.get(child.ready_url) as resp:
                            if resp.status == 200:
                                del pending[name]
                    except aiohttp.ClientError:
                        pass
                await asyncio.sleep(0.3)
        if pending:
            raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
        return []

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every service, wait for them, kill stragglers, then the servers."""
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(5)
        self.broker.stop()
        self.redis.stop()
