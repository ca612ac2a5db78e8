"""What every command reports about itself: a count and duration by outcome, a log line, a span.

The outcome is ``ok`` or the error's stable code (``unexpected`` for anything else: a bug or a
lost database). The log line names the command, the aggregate it changed, the ids of the events
it wrote and their correlation id (the request's, ADR 0024). Nothing here runs a statement;
the cost is a few microseconds beside a command's millisecond.
"""

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from observability import tracing
from observability.context import CommandEvents, collecting_command_events, log_context
from observability.instruments import record_command
from observability.logging import log_fields
from orders_write.errors import DomainError

logger = logging.getLogger("orders.command")


@dataclass
class Observation:
    result: Any = None


def _aggregate_key(command: str) -> str:
    """``order_place`` → ``order_id``: the log field naming the aggregate a command changes."""
    return f"{command.split('_', 1)[0]}_id"


def observed(service: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a public service (keyword-only arguments) so each call is observed under its name."""
    name = service.__name__

    @functools.wraps(service)
    def run(*args: Any, **kwargs: Any) -> Any:
        with observed_command(name, kwargs) as observation:
            observation.result = service(*args, **kwargs)
            return observation.result

    return run


@contextmanager
def observed_command(command: str, arguments: dict[str, Any]) -> Iterator[Observation]:
    actor = arguments.get("actor")
    user_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    key = _aggregate_key(command)
    observation = Observation()
    started = time.perf_counter()
    outcome = "ok"
    with (
        log_context(command=command, user_id=user_id, **{key: arguments.get(key)}),
        tracing.command_span(command),
        collecting_command_events() as events,
    ):
        try:
            yield observation
        except DomainError as error:
            outcome = error.code
            raise
        except BaseException:
            outcome = "unexpected"
            raise
        finally:
            seconds = time.perf_counter() - started
            record_command(command, outcome, seconds)
            level = logging.INFO if outcome == "ok" else logging.WARNING
            if logger.isEnabledFor(level):
                _log_outcome(level, command, key, outcome, seconds, observation.result, events)


def _log_outcome(
    level: int, command: str, key: str, outcome: str, seconds: float, result: Any, events: CommandEvents
) -> None:
    fields: dict[str, Any] = {"outcome": outcome, "duration_ms": round(seconds * 1000, 3)}
    aggregate_id = getattr(result, "aggregate_id", None)
    if aggregate_id is not None:
        fields[key] = aggregate_id
        fields["version"] = result.version
        fields["position"] = result.position
    if events.event_ids:
        fields["event_ids"] = events.event_ids  # UUIDs: the formatters write them as text
        fields["correlation_id"] = events.correlation_id
    log_fields(logger, level, f"{command} {outcome}", fields)
