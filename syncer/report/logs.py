"""Structured logs: one event per line on stderr, as JSON or as text (``--log-format``).

An event is a ``logging`` record on a ``syncer.*`` logger with a name (``flow.applied``) and a few
well-known fields: the run id, the environment, the flow key, its status and its revision. ``event()``
is the one way to write one::

    logs.event(log, "flow.applied", "created", environment="production-eu", flow="intake", revision=1)

The format is chosen once per process by ``configure``: ``--log-format`` wins, then
``$SYNCER_LOG_FORMAT``, then text. Text logs show warnings only unless a format was asked for (a person
at a terminal reads the command's own output; the events would repeat it); JSON logs and ``syncer serve``
show every event from INFO up.

Secrets: events carry keys, names, statuses and revisions, never a value from a flow. As a second line of
defence every line passes ``redact``, which replaces any registered secret (the API keys and secret
sources syncer read from the environment, see ``register_secret``) with ``[redacted]``, whatever logger
or exception text it came from.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

from ..errors import UsageError
from ..model import mask_secrets

FORMATS = ("text", "json")
FIELDS = ("run_id", "environment", "flow", "status", "revision")
ENV_VARIABLE = "SYNCER_LOG_FORMAT"
REDACTED = "[redacted]"
_MIN_SECRET = 6  # shorter values would redact ordinary words; no real key is that short

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("syncer_run_id", default=None)
_process_run_id: str | None = None  # one run at a time per process: threads of a run see it too
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_handler: logging.Handler | None = None


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach a log line (an API key, a secret source's value)."""
    if value and len(value.strip()) >= _MIN_SECRET:
        with _secrets_lock:
            _secrets.add(value.strip())


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``, in any encoding it can take
    in a message (``model.mask_secrets``: raw, JSON-escaped, URL-encoded, base64)."""
    with _secrets_lock:
        secrets = list(_secrets)
    return mask_secrets(text, secrets, REDACTED) if secrets else text


def event(
    logger: logging.Logger,
    name: str,
    message: str = "",
    *,
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    """Log one event: ``name`` is the stable, machine-readable part; ``fields`` are its data."""
    if logger.isEnabledFor(level):
        clean = {k: v for k, v in fields.items() if v is not None and v != ""}
        logger.log(level, message or name, extra={"syncer_event": name, "syncer_fields": clean})


@contextmanager
def run_context(run_id: str) -> Iterator[None]:
    """Every event logged inside (in any thread of this process) carries ``run_id``."""
    global _process_run_id
    token = _run_id.set(run_id)
    previous, _process_run_id = _process_run_id, run_id
    try:
        yield
    finally:
        _process_run_id = previous
        _run_id.reset(token)


def current_run_id() -> str | None:
    return _run_id.get() or _process_run_id


def choose_format(requested: str | None) -> tuple[str, bool]:
    """The format to use and whether it was asked for (flag or variable) rather than defaulted."""
    if requested:
        return requested, True
    variable = os.environ.get(ENV_VARIABLE, "").strip().lower()
    if variable:
        if variable not in FORMATS:
            raise UsageError(
                f"${ENV_VARIABLE} is {variable!r}; set it to `json` or `text`, or unset it."
            )
        return variable, True
    return "text", False


def configure(
    requested: str | None = None, *, verbose: bool = False, stream: TextIO | None = None
) -> str:
    """Install the one handler of the ``syncer`` logger; returns the format chosen.

    ``verbose`` (``syncer serve``) shows INFO events even in default text mode. Calling it again
    replaces the handler, so repeated ``main()`` calls in one process never double the lines.
    """
    global _handler
    fmt, asked = choose_format(requested)
    root = logging.getLogger("syncer")
    if _handler is not None:
        root.removeHandler(_handler)
    handler = _StderrHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_not_the_reference_tenant)
    handler.setLevel(logging.INFO if asked or verbose else logging.WARNING)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _handler = handler
    return fmt


def attach(logger_name: str) -> None:
    """Send another library's records (uvicorn's) through syncer's handler and format."""
    logger = logging.getLogger(logger_name)
    if _handler is not None and _handler not in logger.handlers:
        logger.addHandler(_handler)
        logger.propagate = False


def _not_the_reference_tenant(record: logging.LogRecord) -> bool:
    # Tenants embedded in this process (tests, the demo) log to ``syncer.tenant``: another system's log.
    return not record.name.startswith("syncer.tenant")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the event (tests redirect it)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._fixed or sys.stderr
        super().emit(record)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = dict(getattr(record, "syncer_fields", {}) or {})
    run_id = current_run_id()
    if run_id and "run_id" not in fields:
        fields["run_id"] = run_id
    return fields


def _timestamp(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, message, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "syncer_event", "log"),
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            data.setdefault(key, value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``time level event key=value ...: message`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        ordered = [k for k in FIELDS if k in fields] + sorted(k for k in fields if k not in FIELDS)
        parts = [_timestamp(record), record.levelname.lower(), getattr(record, "syncer_event", "")]
        parts += [f"{key}={_text_value(fields[key])}" for key in ordered]
        line = " ".join(p for p in parts if p) + f": {record.getMessage()}"
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return redact(line.replace("\n", " | "))


def _text_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c in '"=' for c in text) else text
