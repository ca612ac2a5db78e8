"""The base every event shares: its type name, schema version and aggregate."""

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Event:
    """A fact that happened to one aggregate; subclasses name the aggregate's id field."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    aggregate_type: ClassVar[str]
    aggregate_id_field: ClassVar[str]
    # Fields holding a person's contact data: outside the write side they reach only holders of
    # the contacts right, and are null for everyone else (ADR 0031).
    contact_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def aggregate_id(self) -> int:
        return getattr(self, self.aggregate_id_field)
