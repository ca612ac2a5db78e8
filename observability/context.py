"""What a log line is about: request, correlation, user, command, order, consumer (contextvars).

Code that knows a fact binds it for the block it runs (``log_context(order_id=7)``); every line
logged inside the block, by any logger, carries it (``observability.logging.JsonFormatter``).
Context variables follow threads started with ``contextvars.copy_context`` and asyncio tasks,
and never leak from one request to the next. Imports nothing from the project.
"""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_fields: ContextVar[Mapping[str, Any]] = ContextVar("observability_log_fields", default=_EMPTY)


def current_fields() -> Mapping[str, Any]:
    """Return the fields bound around the caller (read-only)."""
    return _fields.get()


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (``None`` values are left out) to every log line inside the block."""
    token = _fields.set(MappingProxyType({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}}))
    try:
        yield
    finally:
        _fields.reset(token)


@dataclass
class CommandEvents:
    """What the outbox wrote for the running command: its events' ids, correlation and trace context."""

    event_ids: list[uuid.UUID] = field(default_factory=list)
    correlation_id: uuid.UUID | None = None


_command_events: ContextVar[CommandEvents | None] = ContextVar("observability_command_events", default=None)


@contextmanager
def collecting_command_events() -> Iterator[CommandEvents]:
    """Collect what ``note_events`` reports while the block runs (one command)."""
    collected = CommandEvents()
    token = _command_events.set(collected)
    try:
        yield collected
    finally:
        _command_events.reset(token)


def note_events(event_ids: list[uuid.UUID], correlation_id: uuid.UUID) -> None:
    """Called by the outbox writer: remember the events the running command appended (no-op outside one)."""
    collected = _command_events.get()
    if collected is not None:
        collected.event_ids.extend(event_ids)
        collected.correlation_id = correlation_id
