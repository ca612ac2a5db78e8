"""Log formatters: one JSON object per line (``LOG_FORMAT=json``) or readable text with the same fields.

A line carries ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``, the
fields bound around it (``observability.context``: request_id, correlation_id, user_id,
command, order_id, consumer, ...) and those passed with ``extra={...}`` (event_ids, batch
figures); ``exception`` holds a traceback. Values that are not JSON (UUIDs, datetimes) are
written as text. A small formatter rather than a library: the shape is the whole contract.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from observability.context import current_fields

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def line_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the context fields and the record's extras (``extra={...}``), extras winning."""
    fields = dict(current_fields())
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = value
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(line_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        try:  # orjson writes UUIDs and datetimes as text itself; a line is written per command and request
            return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:  # an integer beyond 64 bits, say: the standard library writes anything
            return json.dumps(line, default=str, ensure_ascii=False, separators=(",", ":"))


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
