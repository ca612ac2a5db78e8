"""The transactional outbox: every change to a write-side aggregate, as a versioned event.

Rows are written in the same transaction as the state change they describe, so an event
exists if and only if its change committed. ``position`` orders events globally; on
PostgreSQL a ``txid`` column (``xid8``, default ``pg_current_xact_id()``, added by migration)
lets projections read gap-free even when transactions commit out of position order.
The table is the audit log and the source of rebuilds, so it is append-only.
"""

import uuid

from django.db import models

from orders_write.models.guard import GuardedModel

# The outbox writers' lock (ADR 0015). Every transaction that may write outbox rows takes
# ``pg_advisory_xact_lock_shared(OUTBOX_WRITER_LOCK)`` as its first statement, before it has a
# transaction id (``orders_write.outbox.writer_lock``), so the drain's horizon can wait for those
# transactions only (``projections.store.horizon``). One bigint key: ``pg_locks`` shows it as
# ``classid`` = its high 32 bits, ``objid`` = its low 32 bits, ``objsubid`` = 1. The bytes spell
# "outbox"; the high half is neither 0 nor 0xFFFFFFFF, so no int4 key (``hashtext``) can collide.
OUTBOX_WRITER_LOCK = 0x6F7574626F78


class OutboxEvent(GuardedModel):
    # The key, for readers that find this model through the app registry (projections.store.horizon).
    WRITER_LOCK = OUTBOX_WRITER_LOCK

    position = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.BigIntegerField()
    aggregate_version = models.PositiveIntegerField()
    event_type = models.CharField(max_length=64)
    schema_version = models.PositiveSmallIntegerField()
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    correlation_id = models.UUIDField()
    causation_id = models.UUIDField(null=True)
    actor = models.CharField(max_length=150)
    # W3C trace context of the command that wrote the event, when tracing is on (ADR 0024).
    traceparent = models.CharField(max_length=55, null=True, blank=True)  # noqa: DJ001 (NULL: not traced)

    class Meta:
        db_table = "outbox_event"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "aggregate_version"], name="outbox_one_event_per_version"
            ),
        ]
        indexes = [models.Index(fields=["event_type", "occurred_at"], name="outbox_type_time")]

    def __str__(self) -> str:
        return f"#{self.position} {self.event_type} {self.aggregate_type}:{self.aggregate_id} v{self.aggregate_version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("outbox events are append-only")
        super().save(*args, **kwargs)


class IdempotencyRecord(GuardedModel):
    """The first result of an order placement made with a client's idempotency key."""

    scope = models.CharField(max_length=150)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    order_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    position = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique_per_scope")]
        # The hourly purge of old records reads this range (orders_write/services/idempotency.py).
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]
