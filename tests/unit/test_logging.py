"""Every log line of a service is one structlog JSON object, whoever wrote it (kefu,
FastStream, aiokafka, Python warnings), exceptions carry their traceback, and phone
numbers and addresses are masked in every field."""

from __future__ import annotations

import logging
import warnings

import orjson
import pytest
import structlog

from services.core.logging import configure_logging, get_logger


@pytest.fixture
def json_lines(capfd):
    """Configure JSON logs, yield a reader of the lines written to stderr since, restore."""
    saved = (structlog.get_config(), logging.getLogger().handlers[:], logging.getLogger().level)
    logging.captureWarnings(False)  # an earlier test's capture may point at its own recorder
    configure_logging("json", "INFO", service="router")

    def read() -> list[dict]:
        logging.getLogger().handlers[0].flush()
        err = capfd.readouterr().err
        return [orjson.loads(line) for line in err.splitlines() if line.strip()]

    yield read
    config, handlers, level = saved
    structlog.configure(**config)
    logging.getLogger().handlers[:] = handlers
    logging.getLogger().setLevel(level)
    logging.captureWarnings(False)


def test_faststream_aiokafka_and_warnings_come_out_as_json(json_lines):
    import faststream  # noqa: F401 - installs its own handler on the "faststream" logger

    get_logger("faststream").warning("Topic creation is skipped", extra={"topic": "kefu.inbound"})
    logging.getLogger("faststream").info("assigned to %s", "kefu.inbound-0")
    logging.getLogger("faststream.access.kafka").info("received")
    logging.getLogger("aiokafka.consumer").warning("Heartbeat failed for group %s", "kefu-router")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a synchronous Retry was passed", UserWarning, stacklevel=1)
    lines = json_lines()
    assert [line["event"] for line in lines[:4]] == [
        "Topic creation is skipped", "assigned to kefu.inbound-0", "received",
        "Heartbeat failed for group kefu-router"]
    assert "a synchronous Retry was passed" in lines[4]["event"]
    assert all(line["service"] == "router" and "timestamp" in line and "level" in line
               for line in lines)
    assert lines[0]["topic"] == "kefu.inbound" and "extra" not in lines[0], "extra is flattened"


def test_an_exception_carries_its_traceback(json_lines):
    try:
        raise ValueError("broken")
    except ValueError:
        get_logger("kefu.router").exception("batch failed")
    [line] = json_lines()
    assert line["event"] == "batch failed" and line["level"] == "error"
    assert "Traceback" in line["exception"] and "ValueError: broken" in line["exception"]


def test_phone_numbers_and_addresses_are_masked_in_every_field(json_lines):
    log = get_logger("kefu.notifier")
    log.info("buyer wrote 138.1234.5678", detail="送到幸福小区5号楼2单元301",
             nested={"text": "call +86 139 1234 5678"}, offset=13812345678)
    logging.getLogger("aiokafka").warning("bad value %r", "一三八一二三四五六七八")
    try:
        raise KeyError("13912345678")
    except KeyError:
        log.exception("lookup failed")
    text = "\n".join(orjson.dumps(line).decode() for line in json_lines())
    for clear in ("1234.5678", "5号楼", "1234 5678", "一三八一二三四", "13912345678"):
        assert clear not in text, clear
    assert text.count("138****5678") == 2 and "139****5678" in text
    assert '"offset":13812345678' in text, "numbers that are not text are left alone"
