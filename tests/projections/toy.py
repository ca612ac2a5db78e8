"""A toy projection declared the way a new read table would be: one module and one settings line.

It keeps each order's status in a table of its own. ``POISONED`` order ids make its handler
fail, so a test can watch the runtime park just that stream.
"""

from collections.abc import Sequence
from typing import Any

from django.db import models

from events import OrderCancelled, OrderConfirmed, OrderPlaced
from projections.runtime.consumer import Projection, Relay, already_applied
from projections.sql import bulk_upsert, columns_of, fetch_matching
from projections.store import StoredEvent

DDL = (
    "CREATE TABLE toy_order_status (order_id BIGINT PRIMARY KEY, status VARCHAR(16) NOT NULL, version INTEGER NOT NULL)"
)
POISONED: set[int] = set()


class ToyOrderStatus(models.Model):
    order_id = models.BigIntegerField(primary_key=True)
    status = models.CharField(max_length=16)
    version = models.IntegerField()

    class Meta:
        managed = False
        app_label = "projections"
        db_table = "toy_order_status"

    def __str__(self) -> str:
        return f"{self.order_id}: {self.status}"


class ToyStatus(Projection):
    name = "toy_status"
    handlers = {OrderPlaced: None, OrderConfirmed: None, OrderCancelled: None}
    models = (ToyOrderStatus,)
    version_rows = {"order": (ToyOrderStatus, "order_id")}

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        table, columns = self.physical_table("toy_order_status"), columns_of(ToyOrderStatus)
        ids = sorted({event.aggregate_id for event in events})
        rows = {row["order_id"]: row for row in fetch_matching(cursor, f"SELECT * FROM {table}", "order_id", ids)}
        for stored in events:
            if stored.aggregate_id in POISONED:
                raise ValueError(f"poisoned order {stored.aggregate_id}")
            if already_applied(stored, rows.get(stored.aggregate_id, {}).get("version", 0)):
                continue
            rows[stored.aggregate_id] = {"order_id": stored.aggregate_id, "status": stored.event.status,
                                         "version": stored.version}  # fmt: skip
        bulk_upsert(cursor, table, columns, ("order_id",), [[row[c] for c in columns] for row in rows.values()])


class ToyRelay(Relay):
    """A relay whose "receiver" is a list: it acknowledges by returning, refuses (``refusing``) by raising."""

    name = "toy_relay"
    handlers = {OrderPlaced: None, OrderConfirmed: None}
    delivered: list = []
    refusing: set[int] = set()

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        for stored in events:
            if stored.aggregate_id in self.refusing:
                raise ConnectionError(f"receiver refused order {stored.aggregate_id}")
            self.delivered.append((stored.event_id, stored.aggregate_id, stored.version))
