"""``rebuild_projections [NAME ...]``: rebuild projections from the log into shadow tables and swap them in.

The named projections are built in one pass over the log (``rebuild_many``), then swapped in one by one.

The live tables keep serving reads and the drain keeps running while the shadows are built;
the swap is one short transaction (``projections/rebuild.py``). With no names, every projection.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.runtime.rebuild import BUILD_BATCH, RebuildError, rebuild_many
from projections.runtime.registry import projections


class Command(BaseCommand):
    help = "Rebuild projections (all, or the ones named) from the outbox without downtime, then swap them in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="projections to rebuild (default: all)")
        parser.add_argument("--batch-size", type=int, default=BUILD_BATCH, help="events per build transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        known = list(projections())
        names = options["names"] or known
        if unknown := [name for name in names if name not in known]:
            raise CommandError(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(known)}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            results = rebuild_many(names, batch_size=options["batch_size"], progress=options["verbosity"] > 0)
        except RebuildError as error:
            raise CommandError(str(error)) from error
        for result in results:
            self.stdout.write(
                f"{result.projection}: rebuilt from {result.events} events and swapped in at position "
                f"{result.position.position}"
            )
