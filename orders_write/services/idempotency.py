"""Forget old idempotency records: a client retries within minutes, not weeks (ADR 0022).

A record only answers retries of one placement, so keeping it forever grows a table that every
keyed placement reads. After ``IDEMPOTENCY_RETENTION_DAYS`` (default 7) the key may be reused
as a new request. The worker runs this hourly (``orders_write.tasks``); the command
``purge_idempotency_records`` runs it by hand.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from config.databases import write_alias
from orders_write import clock
from orders_write.models import IdempotencyRecord
from orders_write.models.guard import service_write_scope


def idempotency_records_purge(*, older_than: timedelta | None = None) -> int:
    """Delete the records created more than ``older_than`` ago (default: the retention); return how many."""
    if older_than is None:
        older_than = timedelta(days=settings.IDEMPOTENCY_RETENTION_DAYS)
    cutoff = clock.now() - older_than
    with transaction.atomic(using=write_alias()), service_write_scope():
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
