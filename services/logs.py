"""How Ducha's processes log: one JSON object per line (or plain text), never a secret.
May import: the standard library.

The standard library's ``logging`` with a JSON formatter, not structlog: nothing to add, and
what we run on (gunicorn, kafka-python, eventsourcing, psycopg) already logs through
``logging``, so their lines come out in the same shape as ours. Every line has ``time`` (China
time with its offset, ``2026-03-02T12:00:00.123+08:00``), ``level``, ``logger`` and
``message``; whatever a call passes in ``extra`` joins them as fields, and a line written while
an HTTP request is answered carries its ``request_id``.

``DUCHA_LOG_FORMAT`` (``json`` or ``text``) chooses; ``ducha serve``, ``relay run`` and
``worker run`` default to ``json`` (a log shipper reads them), the other commands to ``text``
(a person reads them). ``DUCHA_LOG_LEVEL`` (default ``INFO``) sets the level.

Whatever the format, every line passes ``redact``: a bearer token, anything shaped like one of
our tokens (``dch_…``), and the value after ``token=``, ``password=`` (and their kin: secret,
key, session, authorization, cookie) are replaced by ``[redacted]``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode

FORMAT_ENV = "DUCHA_LOG_FORMAT"
LEVEL_ENV = "DUCHA_LOG_LEVEL"
FORMATS = ("json", "text")
CHINA = timezone(timedelta(hours=8), "CST")
REDACTED = "[redacted]"

SECRET_NAME = r"[\w-]*(?:token|password|passwd|secret|key|session|auth|cookie)[\w-]*"
SECRET_PARAMETER = re.compile(r"token|key|secret|pass|auth|session|cookie", re.IGNORECASE)
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s\"',;&]+"), rf"\1\2{REDACTED}"),
    (re.compile(r"dch_[A-Za-z0-9_\-]+"), REDACTED),
    (
        re.compile(
            rf"(?i)\b({SECRET_NAME})(\"?\s*[=:]\s*\"?)(?!\[redacted\]|%5Bredacted%5D)([^&\s\"',;}}]+)"
        ),
        rf"\1\2{REDACTED}",
    ),
)
SECRET_FIELD = re.compile(SECRET_NAME, re.IGNORECASE)
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the HTTP request being answered in this thread (set by ``services.http``)."""

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(value: Any) -> Any:
    """``value`` (a log line's fields) with secrets redacted: a field named like a secret
    loses its value, and every text passes ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if SECRET_FIELD.fullmatch(str(k)) else scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def redacted_query(query: str) -> str:
    """A query string with the value of anything that looks like a credential hidden."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if SECRET_PARAMETER.search(k) else v) for k, v in pairs])


def china_time(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).astimezone(CHINA).isoformat(timespec="milliseconds")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """What a call passed in ``extra``, and the request's id if one is being answered."""
    found = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    current = request_id.get()
    if current and "request_id" not in found:
        found["request_id"] = current
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": china_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(scrub(entry), ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value …`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in fields(record).items())
        line = f"{china_time(record.created)} {record.levelname} {record.name}: "
        line += record.getMessage() + (f" {extra}" if extra else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written (a test may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def chosen_format(default: str, environ: dict[str, str] | None = None) -> str:
    """``DUCHA_LOG_FORMAT`` if set, else ``default``; a wrong value is refused in words."""
    value = (environ if environ is not None else os.environ).get(FORMAT_ENV, "").strip().lower()
    if value and value not in FORMATS:
        raise ValueError(f"{FORMAT_ENV} must be json or text (got '{value}')")
    return value or default


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure_logging(default: str = "text", stream: TextIO | None = None) -> str:
    """Send every logger's lines to stderr (or ``stream``) in the chosen format, replacing
    what an earlier call set up. Returns the format chosen."""
    kind = chosen_format(default)
    level = os.environ.get(LEVEL_ENV, "INFO").strip().upper() or "INFO"
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"{LEVEL_ENV} must be DEBUG, INFO, WARNING or ERROR (got '{level}')")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "ducha", False)]:
        root.removeHandler(old)
    handler: logging.Handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(formatter(kind))
    handler.ducha = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return kind


def current_formatter() -> logging.Formatter | None:
    """The formatter ``configure_logging`` installed (gunicorn's loggers borrow it)."""
    for h in logging.getLogger().handlers:
        if getattr(h, "ducha", False):
            return h.formatter
    return None
