"""``projection_status``: where every projection stands against the head of the outbox."""

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from projections.runtime.status import consumer_health

COLUMNS = (
    "name",
    "state",
    "position",
    "head",
    "lag_events",
    "lag_seconds",
    "parked",
    "events_applied",
    "last_applied_at",
    "heartbeat_at",
)


class Command(BaseCommand):
    help = "Show each projection's position, head, lag, parked count and heartbeat (a table, or --json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON (datetimes in ISO 8601)")

    def handle(self, *args: Any, **options: Any) -> None:
        health = consumer_health()
        if options["json"]:
            self.stdout.write(json.dumps([row.as_dict() for row in health], default=_iso, indent=2))
            return
        rows = [COLUMNS, *([_cell(getattr(row, column)) for column in COLUMNS] for row in health)]
        widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
