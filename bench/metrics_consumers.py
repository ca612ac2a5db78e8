"""Do-nothing relays, so ``bench/metrics.py`` can scrape ``/metrics`` with ten consumers in all.

Each handles every order event and acknowledges at once; only their checkpoints and lag exist.
Used by ``bench.metrics_settings`` only.
"""

from collections.abc import Sequence
from typing import Any

from events import OrderCancelled, OrderConfirmed, OrderDelivered, OrderPlaced, OrderShipped
from projections.runtime.consumer import Relay
from projections.store import StoredEvent

TOTAL_CONSUMERS = 10  # the real consumers, topped up with silent relays
EXTRA_CONSUMERS = 8  # at most this many silent relays are defined


class _Silent(Relay):
    handlers = {OrderPlaced: None, OrderConfirmed: None, OrderShipped: None, OrderDelivered: None, OrderCancelled: None}

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        """Acknowledge: nothing leaves the database."""


for _number in range(EXTRA_CONSUMERS):
    globals()[f"Silent{_number}"] = type(f"Silent{_number}", (_Silent,), {"name": f"silent_{_number}"})
