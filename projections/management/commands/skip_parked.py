"""``skip_parked``: give up on parked streams' failing events, then drain the rest."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.drain import drain
from projections.registry import all_projections
from projections.skipping import skip_parked


class Command(BaseCommand):
    help = "Skip the failing event of parked streams (all, one projection's, or one order's) and drain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projection", help="only this projection's parked streams")
        parser.add_argument("--order", type=int, help="only this order's stream")

    def handle(self, *args: Any, **options: Any) -> None:
        names = list(all_projections())
        if options["projection"] and options["projection"] not in names:
            raise CommandError(f"unknown projection {options['projection']!r}; known: {', '.join(names)}")
        skipped = skip_parked(projection=options["projection"], order_id=options["order"])
        for name in [options["projection"]] if options["projection"] else names:
            drain(name)
        for line in skipped:
            self.stdout.write(line)
        self.stdout.write(f"skipped {len(skipped)} event(s)")
