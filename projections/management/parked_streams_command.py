"""What ``retry_parked`` and ``skip_parked`` share: the selection of streams, then a drain."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.runtime.loop import drain
from projections.runtime.registry import consumers


class ParkedStreamsCommand(BaseCommand):
    """Act on the parked streams chosen by ``--projection``/``--order``, then drain."""

    def act(self, *, projection: str | None, order_id: int | None) -> list[str]:
        """Change the chosen parked streams; return lines to print."""
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projection", help="only this projection's parked streams")
        parser.add_argument("--order", type=int, help="only this order's stream")

    def handle(self, *args: Any, **options: Any) -> None:
        names = list(consumers())
        projection = options["projection"]
        if projection and projection not in names:
            raise CommandError(f"unknown projection {projection!r}; known: {', '.join(names)}")
        lines = self.act(projection=projection, order_id=options["order"])
        for name in [projection] if projection else names:
            drain(name)
        for line in lines:
            self.stdout.write(line)
