"""``drain_projections``: bring every projection (or one) up to the head, in this process.

After a large catch-up (``ANALYZE_AFTER_EVENTS``) it refreshes the planner statistics of the
projection's tables, so the first reads after a bulk load do not get plans made for empty tables.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.runtime.loop import ANALYZE_AFTER_EVENTS, DEFAULT_BATCH_SIZE, analyze, drain, drain_all
from projections.runtime.registry import consumers, projections


class Command(BaseCommand):
    help = "Drain every projection (or one) to the head of the outbox now, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projection", help="drain only this projection")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        names = list(consumers())
        if options["projection"]:
            if options["projection"] not in names:
                raise CommandError(f"unknown projection {options['projection']!r}; known: {', '.join(names)}")
            names = [options["projection"]]
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["projection"]:
            totals = {names[0]: drain(names[0], batch_size=options["batch_size"])}
        else:
            totals = drain_all(batch_size=options["batch_size"])
        for name, applied in totals.items():
            analysed = applied >= ANALYZE_AFTER_EVENTS and name in projections()
            if analysed:
                analyze(projections()[name])
            self.stdout.write(f"{name}: {applied} events applied" + (" (tables analysed)" if analysed else ""))
