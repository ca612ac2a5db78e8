"""The projections that exist, each with the events it handles and the tables it owns.

A projection applies a whole batch of events at once (``apply``) so it can load the rows it
touches in one query and write them back in one upsert per table. It must be idempotent:
events it has already applied (version at or below the stored one) change nothing.

``tables`` names the tables a projection owns (logical names). Its SQL names each through
``self.t(logical)``, so the same projection can write other physical tables: a rebuild builds
into shadow tables (``projections/rebuild.py``) with ``Projection(tables={logical: physical})``.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from events import Event
from projections.outbox_reader import StoredEvent


class Projection:
    name: ClassVar[str]
    handlers: ClassVar[dict[type[Event], Any]]
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, tables: dict[str, str] | None = None) -> None:
        """``tables`` maps logical table names to the physical ones to use; unmapped names are kept."""
        unknown = set(tables or {}) - set(self.tables)
        if unknown:
            raise ValueError(f"{self.name} does not own {', '.join(sorted(unknown))}")
        self.physical = {table: table for table in self.tables} | (tables or {})

    def t(self, table: str) -> str:
        """Return the physical name of the owned table ``table``."""
        return self.physical[table]

    @classmethod
    def event_types(cls) -> frozenset[str]:
        return frozenset(event_class.event_type for event_class in cls.handlers)

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        raise NotImplementedError


class ProjectionGapError(RuntimeError):
    """An aggregate's events arrived with a version missing: never apply past a hole."""


def already_applied(stored: StoredEvent, known_version: int) -> bool:
    """Say whether ``stored`` is at or below the applied version; refuse one beyond the next."""
    if stored.version <= known_version:
        return True
    if stored.version != known_version + 1:
        raise ProjectionGapError(
            f"{stored.aggregate_type} {stored.aggregate_id}: v{stored.version} arrived after v{known_version}"
        )
    return False


def all_projections() -> dict[str, Projection]:
    from projections.order_views import OrderViews
    from projections.sales import Sales

    return {projection.name: projection for projection in (OrderViews(), Sales())}
