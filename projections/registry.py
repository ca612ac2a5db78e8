"""The projections that exist, each with the events it handles and the tables it owns.

A projection applies a whole batch of events at once (``apply``) so it can load the rows it
touches in one query and write them back in one upsert per table. It must be idempotent:
events it has already applied (version at or below the stored one) change nothing.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from events import Event
from projections.outbox_reader import StoredEvent


class Projection:
    name: ClassVar[str]
    handlers: ClassVar[dict[type[Event], Any]]
    tables: ClassVar[tuple[str, ...]]

    @classmethod
    def event_types(cls) -> frozenset[str]:
        return frozenset(event_class.event_type for event_class in cls.handlers)

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        raise NotImplementedError


class ProjectionGapError(RuntimeError):
    """An aggregate's events arrived with a version missing: never apply past a hole."""


def all_projections() -> dict[str, Projection]:
    from projections.order_views import OrderViews
    from projections.sales import Sales

    return {projection.name: projection for projection in (OrderViews(), Sales())}
