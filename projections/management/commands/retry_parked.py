"""``retry_parked``: release parked streams for an immediate retry, then drain."""

from config.databases import read_alias
from projections.management.parked_streams_command import ParkedStreamsCommand
from projections.models import ParkedStream
from projections.runtime.parking import release


class Command(ParkedStreamsCommand):
    help = "Retry parked streams now (all, one projection's, or one order's), then drain."

    def act(self, *, projection: str | None, order_id: int | None) -> list[str]:
        released = release(projection=projection, order_id=order_id, using=read_alias())
        return [f"released {released} stream(s) for retry"]

    def handle(self, *args, **options) -> None:
        super().handle(*args, **options)
        self.stdout.write(f"{ParkedStream.objects.using(read_alias()).count()} still parked")
