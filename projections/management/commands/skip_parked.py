"""``skip_parked``: give up on parked streams' failing events, then drain the rest."""

from projections.management.parked_streams_command import ParkedStreamsCommand
from projections.runtime.skipping import skip_parked


class Command(ParkedStreamsCommand):
    help = "Skip the failing event of parked streams (all, one projection's, or one order's) and drain."

    def act(self, *, projection: str | None, order_id: int | None) -> list[str]:
        skipped = skip_parked(projection=projection, order_id=order_id)
        return [*skipped, f"skipped {len(skipped)} event(s)"]
