"""Every service run as an operator runs it (`kefu run SERVICE`, a child process): every
line it writes is one structlog JSON object, FastStream's and aiokafka's included, with
no phone number in clear; and a service whose HTTP port is taken exits at once with one
line naming KEFU_HTTP_PORT, not a traceback."""

from __future__ import annotations

import socket

import httpx
import orjson
import pytest

from contracts import topics
from services.cli.services import available_services
from tests.conftest import unique
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

INPUT = {"router": topics.INBOUND, "presale": topics.ROLE_PRESALE,
         "aftersale": topics.ROLE_AFTERSALE, "notifier": topics.ORDERS,
         "analytics": topics.ORDERS}
GARBAGE = "买家电话13812345678，地址文三路100号3栋201室 {not json".encode()


def lines_of(process: ServiceProcess) -> list[str]:
    path = process.log_dir / f"{process.service}-{process.port}.log"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("service", available_services())
async def test_every_line_a_service_writes_is_json(service, stack, kafka, tmp_path):
    env = {"KEFU_ANALYTICS_DATA_DIR": str(tmp_path / "analytics")}
    process = ServiceProcess(service, stack.settings(), tmp_path, **env).start()
    key = unique("k")
    try:
        assert await process.ready(), f"{service} did not become ready"
        if service == "gateway":  # it consumes nothing: the garbage comes over HTTP, unsigned
            async with httpx.AsyncClient() as client:
                answer = await client.post(f"http://127.0.0.1:{process.port}/v1/events",
                                           content=GARBAGE,
                                           headers={"content-type": "application/json"})
            assert answer.status_code == 401, answer.text
        elif service == "console":  # it skips what it cannot read (its owners dead-letter it)
            await kafka.send(topics.ESCALATIONS, GARBAGE, key)
            assert await wait_until(
                lambda: any("unreadable record skipped" in line for line in lines_of(process)),
                timeout=60), "the console did not read the garbage"
        else:
            await kafka.send(INPUT[service], GARBAGE, key)
            letters = await kafka.collect(topics.DLQ,
                                          lambda _body, record: record.key == key.encode(),
                                          timeout=60)
            assert letters, f"{service} did not dead-letter the garbage"
    finally:
        assert process.terminate() == 0, "a graceful stop exits 0"
    lines = lines_of(process)
    assert len(lines) >= 3, lines
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            pytest.fail(f"{service} wrote a line that is not JSON: {line!r}")
        assert isinstance(record, dict) and {"event", "level", "timestamp"} <= record.keys(), line
        assert record.get("service") == service, line
    loggers = {orjson.loads(line).get("logger") for line in lines}
    if service != "gateway":
        assert "faststream" in loggers, "FastStream's own lines are among them, as JSON"
    assert not any("13812345678" in line or "201室" in line for line in lines)


async def test_a_taken_http_port_exits_with_one_line_naming_the_setting(stack, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = ServiceProcess("router", stack.settings(), tmp_path)
        process.port = taken.getsockname()[1]
        process.start()
        code = process.proc.wait(60)
    lines = lines_of(process)
    assert code in (1, 2), f"exit code {code}"
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    naming = [line for line in lines if "KEFU_HTTP_PORT" in line]
    assert len(naming) == 1, "\n".join(lines)
    error = orjson.loads(naming[0])
    assert error["level"] == "error" and str(process.port) in error["event"]
    assert all(isinstance(orjson.loads(line), dict) for line in lines), "still JSON lines"
