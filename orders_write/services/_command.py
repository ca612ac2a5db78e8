"""What every domain service shares: one durable transaction, a write scope, a typed result."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import transaction

from config.databases import write_alias
from orders_write import clock, outbox
from orders_write.errors import VersionConflict
from orders_write.models.guard import service_write_scope
from orders_write.services._observed import observed

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class CommandResult:
    """What a command returns: the aggregate, its new version and its last event's position."""

    aggregate_id: int
    version: int
    position: int

    @property
    def order_id(self) -> int:
        return self.aggregate_id


def command(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service as the outermost transaction, allowed to write write-side models.

    ``durable=True`` makes nesting a service inside someone else's transaction an error, so
    the service's commit really is the moment its change and its events become visible.
    The clock is read once: the state's timestamps and its events' ``occurred_at`` agree.
    The transaction's first statement takes the outbox writers' lock (before any write gives it a
    transaction id), so the drain waits for it and not for unrelated transactions (ADR 0015).
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with (
            transaction.atomic(using=write_alias(), durable=True),
            outbox.writer_lock(),
            service_write_scope(),
            clock.frozen_at(clock.now()),
        ):
            return func(*args, **kwargs)

    # Metrics, log line, span (ADR 0024); a private step (``_place``) is observed by its public service.
    return run if func.__name__.startswith("_") else observed(run)

    return run


def check_expected_version(*, aggregate: str, expected_version: int | None, current_version: int) -> None:
    if expected_version is not None and expected_version != current_version:
        raise VersionConflict(aggregate=aggregate, expected_version=expected_version, current_version=current_version)
