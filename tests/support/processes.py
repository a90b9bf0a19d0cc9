"""Services as real child processes (`kefu run SERVICE`), for crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from services.core.embedded import free_port
from tests.support.kafka_io import wait_until


class ServiceProcess:
    def __init__(self, service: str, settings, log_dir: Path, **env: str) -> None:
        self.service, self.settings, self.log_dir, self.extra_env = service, settings, log_dir, env
        self.proc: subprocess.Popen | None = None
        self.port = free_port()

    def env(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.update(
            KEFU_KAFKA_BOOTSTRAP=s.kafka_bootstrap,
            KEFU_REDIS_URL=s.redis_url,
            KEFU_HTTP_PORT=str(self.port),
            KEFU_GROUP_PREFIX=s.group_prefix,
            KEFU_LOG_FORMAT="json",
            KEFU_LOG_LEVEL="INFO",
            KEFU_CONSUMER_SESSION_TIMEOUT_MS=str(s.consumer_session_timeout_ms),
            KEFU_CONSUMER_HEARTBEAT_INTERVAL_MS=str(s.consumer_heartbeat_interval_ms),
            KEFU_CONSUMER_REBALANCE_TIMEOUT_MS=str(s.consumer_rebalance_timeout_ms or 2000),
            KEFU_CONSUMER_MAX_RECORDS=str(s.consumer_max_records),
            KEFU_ROLES_MAX_RECORDS=str(s.roles_max_records),
        )
        if s.policy_file:
            env["KEFU_POLICY_FILE"] = str(s.policy_file)
        env.update(self.extra_env)
        return env

    def start(self) -> ServiceProcess:
        log = open(self.log_dir / f"{self.service}-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "run", self.service],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    async def ready(self, timeout: float = 60.0) -> bool:
        async def check() -> bool:
            try:
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(
                        f"http://127.0.0.1:{self.port}/readyz",
                        timeout=aiohttp.ClientTimeout(total=2),
                    ) as resp,
                ):
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        return await wait_until(check, timeout=timeout, interval=0.3)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 15.0) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode if self.proc else None
