"""structlog, configured once per process: JSON off a terminal, console on one.

Every line a service writes goes through the one renderer: kefu's own (structlog), the
standard library's (aiokafka; FastStream, whose own handlers are removed) and Python
warnings. An exception is rendered as text in ``exception``. Every text field is masked
(`services.core.masking`): phone numbers and addresses never reach a log in clear."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from services.core.masking import mask_sensitive

_MACHINE_FIELDS = frozenset({"timestamp", "level", "logger", "service"})


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of the line."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _flatten_extra(_logger, _name, event: dict[str, Any]) -> dict[str, Any]:
    """FastStream logs ``extra={...}`` through the logger it is given: its fields become
    fields of the line; an empty ``exc_info`` goes."""
    extra = event.pop("extra", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            event.setdefault(str(key), value)
    if event.get("exc_info") in (None, False):
        event.pop("exc_info", None)
    return event


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item) for item in value]
    return value


def _mask(_logger, _name, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key not in _MACHINE_FIELDS:
            event[key] = _masked(value)
    return event


def configure_logging(log_format: str = "auto", level: str = "INFO", service: str = "") -> None:
    """Route stdlib logging (aiokafka, faststream), warnings and structlog through one
    renderer, masking every field."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        _flatten_extra, structlog.processors.format_exc_info, _mask, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    _adopt_faststream_loggers()
    logging.captureWarnings(True)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


def _adopt_faststream_loggers() -> None:
    """FastStream gives its loggers their own handler (another format, on stdout for
    its access log) and stops them propagating: send them to the root handler."""
    import faststream  # noqa: F401 - creates its loggers, so that they can be adopted

    for name in list(logging.root.manager.loggerDict):
        if name == "faststream" or name.startswith("faststream."):
            adopted = logging.getLogger(name)
            adopted.handlers.clear()
            adopted.propagate = True


def get_logger(name: str = "kefu") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
