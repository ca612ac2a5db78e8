"""The time services stamp on changes, overridable for back-filling history (seed_demo)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_frozen_now: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def now() -> datetime:
    """Return the current time, or the time set by ``frozen_at`` in this context."""
    return _frozen_now.get() or timezone.now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make services record ``moment`` as the time of every change made inside the block."""
    if timezone.is_naive(moment):
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen_now.set(moment)
    try:
        yield
    finally:
        _frozen_now.reset(token)
