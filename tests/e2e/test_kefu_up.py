"""`kefu up` brings the whole system up on the embedded stack, prints `kefu is ready`
and on Ctrl-C stops everything, leaving nothing running."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest
from redis import Redis

from tests.support.console_client import live, logged_in

pytestmark = pytest.mark.e2e


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def read_until(proc: subprocess.Popen, needle: str, timeout: float) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line.rstrip("\n"))
        if line.strip() == needle:
            return lines
    raise AssertionError(f"no {needle!r} within {timeout}s; output:\n" + "\n".join(lines))


def demo_report(data_dir, timeout: float) -> dict:
    """`kefu report --shop shop-demo` as the README shows it, polled until it has rounds:
    the demo's first conversations reach analytics within a minute."""
    deadline, report = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        out = subprocess.run(
            [sys.executable, "-m", "services.cli.main", "report", "--shop", "shop-demo",
             "--data-dir", str(data_dir), "--format", "json"],
            capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        if report["replies"]["answered"]:
            return report
        time.sleep(1)  # between polls of the condition above
    raise AssertionError(f"no answered round within {timeout}s: {report}")


def signed_post(gateway: str, secret: str) -> tuple[int, dict]:
    """One event to the gateway, signed as the README shows: (status, its counts)."""
    body = json.dumps({
        "event_id": f"evt-up-{time.time_ns()}", "event_type": "buyer.message",
        "schema_version": 1, "occurred_at": "2026-11-22T20:16:00+08:00",
        "shop_id": "shop-demo", "platform": "taobao",
        "payload": {"conversation_id": "conv-up", "buyer_id": "buyer-up",
                    "message_id": "msg-up", "text": "在吗？什么时候发货"}}).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    answer = httpx.post(f"{gateway}/v1/events", content=body, timeout=30, headers={
        "Content-Type": "application/json", "X-Kefu-Timestamp": timestamp,
        "X-Kefu-Signature": f"v1={digest.hexdigest()}"})
    counts = answer.json()
    return answer.status_code, {k: counts.get(k) for k in ("accepted", "duplicates")}


@pytest.mark.parametrize("demo", [False, True], ids=["no-demo", "with-demo"])
def test_up_is_ready_then_stops_cleanly_on_ctrl_c(tmp_path, demo):
    args = [sys.executable, "-m", "services.cli.main", "up", "--data-dir", str(tmp_path)]
    if not demo:
        args.append("--no-demo")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = read_until(proc, "kefu is ready", timeout=180)
        ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", "\n".join(lines))]
        assert len(ports) >= 3, lines
        assert all(port_open(p) for p in ports)
        [redis_url] = re.findall(r"redis://\S+", "\n".join(lines))
        password = urlsplit(redis_url).password
        assert password, "the printed Redis URL carries the generated password"
        assert Redis.from_url(redis_url).ping(), "and it is the URL to use"
        login = re.search(r"(http://127\.0\.0\.1:\d+/)\s+supervisor console: log in as "
                          r"(\S+) / (\S+) ", "\n".join(lines))
        assert login, f"no console login in the banner: {lines}"
        url, name, password = login.groups()
        board = live(logged_in(url, name, password), url, "shop-demo")
        assert set(board["queues"]) == {"presale", "aftersale"}
        gateway = re.search(r"^gateway\s+(http://127\.0\.0\.1:\d+) .*\n\s+ingest secret (\S+) ",
                            "\n".join(lines), re.MULTILINE)
        assert gateway, f"no gateway address and ingest secret in the banner: {lines}"
        assert signed_post(*gateway.groups()) == (202, {"accepted": 1, "duplicates": 0})
        if demo:
            report = demo_report(tmp_path, timeout=60)
            assert report["replies"]["rounds"] > 0 and report["replies"]["answered"] > 0
            assert report["intents"] and report["pipe"]["routed"] > 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    still_open = [p for p in ports if port_open(p)]
    assert not still_open, f"something still listens on {still_open}"
    logs = [path for path in (tmp_path / "logs").iterdir() if path.is_file()]
    assert logs and not [p.name for p in logs if password in p.read_text(errors="replace")], \
        "the Redis password is in a log"
