"""``manage.py purge_idempotency_records [--older-than-days D]``: forget old idempotency records.

The worker does the same every hour; this is for a one-off (or a cron where no worker runs).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from orders_write.services.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete idempotency records older than IDEMPOTENCY_RETENTION_DAYS (or --older-than-days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=int, default=None, help="default IDEMPOTENCY_RETENTION_DAYS")

    def handle(self, *args: Any, older_than_days: int | None, **options: Any) -> None:
        days = settings.IDEMPOTENCY_RETENTION_DAYS if older_than_days is None else max(older_than_days, 0)
        deleted = idempotency_records_purge(older_than=timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {days} day(s).")
