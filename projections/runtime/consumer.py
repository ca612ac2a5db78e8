"""What a consumer declares: its name, the events it handles, how it applies a batch, its kind.

A *projection* writes read tables; the runtime commits its checkpoint in the same transaction,
so each event's effect happens exactly once (ADR 0008). A *relay* causes a side effect outside
the database (a webhook, a bus publish); the runtime moves its checkpoint only after the side
effect is acknowledged, so each event is delivered at least once, identified by its event id.

Everything else the runtime needs comes from the declaration: the tables a projection owns are
its models' ``_meta.db_table``, the rows that hold its applied version per aggregate type are
``version_rows``, and its comparisons with the write side are ``write_side_differences``.
Consumers are listed in ``settings.CONSUMERS`` (``projections.runtime.registry``).
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db import models

from events import Event
from projections.store import Position, StoredEvent

PROJECTION = "projection"
RELAY = "relay"


class Consumer:
    name: ClassVar[str]
    kind: ClassVar[str]
    handlers: ClassVar[dict[type[Event], Any]]

    @classmethod
    def event_types(cls) -> frozenset[str]:
        return frozenset(event_class.event_type for event_class in cls.handlers)

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        """Apply a batch in drain order; raise to have the runtime isolate the failing stream."""
        raise NotImplementedError


class Projection(Consumer):
    """A consumer that writes read tables it owns, with its checkpoint (exactly once).

    ``models`` are the tables it owns. Its SQL names each through ``self.physical_table(name)``, so
    the same projection can write other physical tables: rebuild and verify build into shadows with
    ``Projection(tables={name: shadow})``. ``version_rows`` maps an aggregate type to the model
    and column whose ``version`` row records what it has applied (used to skip a poison event).
    """

    kind = PROJECTION
    models: ClassVar[tuple[type[models.Model], ...]]
    version_rows: ClassVar[dict[str, tuple[type[models.Model], str]]] = {}

    def __init__(self, tables: dict[str, str] | None = None) -> None:
        """``tables`` maps owned table names to the physical ones to use; unmapped names are kept."""
        unknown = set(tables or {}) - set(self.tables())
        if unknown:
            raise ValueError(f"{self.name} does not own {', '.join(sorted(unknown))}")
        self.physical = {table: table for table in self.tables()} | (tables or {})

    @classmethod
    def tables(cls) -> tuple[str, ...]:
        return tuple(model._meta.db_table for model in cls.models)

    def physical_table(self, table: str) -> str:
        """Return the table this instance writes for the owned table ``table``: itself, or its rebuild shadow."""
        return self.physical[table]

    def shadow(self, suffix: str) -> "Projection":
        """The same projection writing ``<table><suffix>`` for each table it owns."""
        return type(self)(tables={table: f"{table}{suffix}" for table in self.tables()})

    def version_row(self, aggregate_type: str) -> tuple[str, str] | None:
        """Return ``(table, key column)`` of the rows holding the applied version of ``aggregate_type``."""
        if aggregate_type not in self.version_rows:
            return None
        model, field = self.version_rows[aggregate_type]
        return self.physical_table(model._meta.db_table), model._meta.get_field(field).column

    def write_side_differences(self, *, caught_up: bool) -> list[str]:
        """Compare the live tables with the write side's own read functions; ``[]`` when they agree."""
        return []


class Relay(Consumer):
    """A consumer whose effect leaves the database: delivered at least once, in drain order.

    ``apply`` must return only once the receiver has acknowledged every event of the batch
    (raise otherwise); receivers de-duplicate by ``StoredEvent.event_id``. Raise
    ``ReceiverUnavailable`` when the receiver itself is down: nothing is parked then.
    """

    kind = RELAY


class ReceiverUnavailable(ConnectionError):
    """A relay's receiver can take nothing now (down, not answering, set up wrongly).

    The runtime retries the whole batch later, with backoff, and parks nothing: the fault is
    the receiver's, not any stream's (``runtime.receivers``, ADR 0019).
    """


class GapError(RuntimeError):
    """An aggregate's events arrived with a version missing: never apply past a hole."""


def already_applied(stored: StoredEvent, known_version: int) -> bool:
    """Say whether ``stored`` is at or below the applied version; refuse one beyond the next."""
    if stored.version <= known_version:
        return True
    if stored.version != known_version + 1:
        raise GapError(
            f"{stored.aggregate_type} {stored.aggregate_id}: v{stored.version} arrived after v{known_version}"
        )
    return False


__all__ = [
    "PROJECTION",
    "RELAY",
    "Consumer",
    "GapError",
    "Position",
    "Projection",
    "ReceiverUnavailable",
    "Relay",
    "already_applied",
]
