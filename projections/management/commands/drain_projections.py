"""``drain_projections``: bring every projection (or one) up to the head, in this process."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.drain import DEFAULT_BATCH_SIZE, drain
from projections.registry import all_projections


class Command(BaseCommand):
    help = "Drain every projection (or one) to the head of the outbox now, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projection", help="drain only this projection")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        names = list(all_projections())
        if options["projection"]:
            if options["projection"] not in names:
                raise CommandError(f"unknown projection {options['projection']!r}; known: {', '.join(names)}")
            names = [options["projection"]]
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        for name in names:
            applied = drain(name, batch_size=options["batch_size"])
            self.stdout.write(f"{name}: {applied} events applied")
