"""Log formatters: one JSON object per line (``LOG_FORMAT=json``) or readable text with the same fields.

A line carries ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``, the
fields bound around it (``observability.context``: request_id, correlation_id, user_id,
command, order_id, consumer, ...) and those passed with ``extra={...}`` (event_ids, batch
figures); ``exception`` holds a traceback. Values that are not JSON (UUIDs, datetimes) are
written as text. A small formatter rather than a library: the shape is the whole contract.

``log_fields`` writes the lines of the hot paths (one per request, command and drain batch)
without a ``LogRecord`` where the configuration is this project's own JSON to a stream: in a
real placement the record, its dispatch and the formatter cost more than the rest of the
observability together (ADR 0024).
"""

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from observability.context import current_fields
from observability.line_handler import BatchingStreamHandler

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def line_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the context fields and the record's extras (``extra={...}``), extras winning."""
    fields = dict(current_fields())
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = value
    return fields


def json_line(created: float, level: str, logger: str, message: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The object a line holds: time, level, logger, message, then the fields."""
    return {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        **fields,
    }


def dumps(line: dict[str, Any]) -> str:
    try:  # orjson writes UUIDs and datetimes as text itself; a line is written per command and request
        return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, say: the standard library writes anything
        return json.dumps(line, default=str, ensure_ascii=False, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = json_line(record.created, record.levelname, record.name, record.getMessage(), line_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return dumps(line)


def log_fields(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """Log ``message`` with ``fields`` as ``logger.log(level, message, extra=fields)`` would, for less.

    Where every handler the line reaches is the shipped ``BatchingStreamHandler`` with
    ``JsonFormatter`` and no filters (``LOG_FORMAT=json``), the line is built and handed to the
    handler directly: the same object, the handler's lock, batching and error handling, no
    record. Any other configuration (an operator's own handlers, formatters or filters, pytest's
    capture) gets the ordinary record, with this function's caller as its origin.
    """
    if not logger.isEnabledFor(level):
        return
    handlers = _plain_json_handlers(logger, level)
    if handlers is None:
        logger.log(level, message, extra=fields, stacklevel=2)
        return
    line = json_line(time.time(), logging.getLevelName(level), logger.name, message, {**current_fields(), **fields})
    text = dumps(line)
    for handler in handlers:
        with handler.lock:
            try:
                handler.put_line(text, level)
            except RecursionError:  # as StreamHandler.emit: a recursion is a bug to see
                raise
            except Exception:
                handler.handleError(logger.makeRecord(logger.name, level, "", 0, message, None, None, extra=fields))


def _plain_json_handlers(logger: logging.Logger, level: int) -> list[BatchingStreamHandler] | None:
    """The handlers ``Logger.callHandlers`` would reach at ``level``, if all are the shipped JSON ones."""
    if logger.filters:
        return None
    reached: list[BatchingStreamHandler] = []
    found = 0
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            found += 1
            if level < handler.level:
                continue
            plain = type(handler) is BatchingStreamHandler and type(handler.formatter) is JsonFormatter
            if not plain or handler.filters:
                return None
            reached.append(handler)
        current = current.parent if current.propagate else None
    return reached if found else None  # no handler at all: the ordinary path's last resort


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...``: the development default."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = line_fields(record)
        if not fields:
            return text
        head, newline, rest = text.partition("\n")  # keep a traceback below the fields
        pairs = " ".join(f"{key}={_short(value)}" for key, value in fields.items())
        return f"{head} {pairs}{newline}{rest}"


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)
