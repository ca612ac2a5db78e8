"""``retry_parked``: release parked streams for an immediate retry, then drain."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.drain import READ_DB, drain
from projections.models import ParkedStream
from projections.parking import release
from projections.registry import all_projections


class Command(BaseCommand):
    help = "Retry parked streams now (all, one projection's, or one order's), then drain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projection", help="only this projection's parked streams")
        parser.add_argument("--order", type=int, help="only this order's stream")

    def handle(self, *args: Any, **options: Any) -> None:
        names = list(all_projections())
        if options["projection"] and options["projection"] not in names:
            raise CommandError(f"unknown projection {options['projection']!r}; known: {', '.join(names)}")
        released = release(projection=options["projection"], order_id=options["order"], using=READ_DB)
        for name in [options["projection"]] if options["projection"] else names:
            drain(name)
        still = ParkedStream.objects.using(READ_DB).count()
        self.stdout.write(f"released {released} stream(s) for retry; {still} still parked")
