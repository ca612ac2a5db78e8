"""What one order adds to each sales table, and the per-key difference a batch must write.

An order's *contribution* is what it adds to each report row given its current state: it is
counted once on its day (and once for its customer), its money only while it is not
cancelled. A batch writes, per table and key, the sum over its changed orders of
``contribution(after) - contribution(before)``, so increments stay exact however the events
are split into batches.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

DAILY_INCREMENTS = ("orders", "revenue", "cancellations", "discount_total")
PRODUCT_INCREMENTS = ("units", "revenue")
CUSTOMER_SALES_INCREMENTS = ("orders", "revenue")
STATS_INCREMENTS = ("order_count", "cancelled_count", "lifetime_value")


@dataclass
class OrderState:
    """The sales projection's view of one order: what it counts for the reports."""

    order_id: int
    version: int
    customer_id: int
    day: date
    placed_at: datetime
    cancelled: bool
    total: int
    discount: int
    lines: dict[str, tuple[str, str, int, int]]  # sku -> (sku, product_name, quantity, line_total)


@dataclass
class Deltas:
    """Summed differences per table and key; ``names`` holds the product name of each sku."""

    daily: dict[date, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 4))
    products: dict[tuple[date, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 2))
    customer_sales: dict[tuple[date, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 2))
    stats: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 3))
    names: dict[str, str] = field(default_factory=dict)

    def add(self, state: OrderState | None, sign: int) -> None:
        """Add ``sign`` times the contribution of ``state`` (nothing for ``None``)."""
        if state is None:
            return
        kept = not state.cancelled
        _add(self.daily[state.day], sign, 1, state.total * kept, int(state.cancelled), state.discount * kept)
        _add(self.customer_sales[(state.day, state.customer_id)], sign, 1, state.total * kept)
        _add(self.stats[state.customer_id], sign, 1, int(state.cancelled), state.total * kept)
        for sku, name, quantity, line_total in state.lines.values():
            self.names[sku] = name
            if kept:
                _add(self.products[(state.day, sku)], sign, quantity, line_total)

    def rows(self, table: dict[Any, list[int]]) -> dict[Any, list[int]]:
        """Return the keys of ``table`` whose deltas are not all zero, in key order."""
        return {key: deltas for key, deltas in sorted(table.items()) if any(deltas)}


def _add(target: list[int], sign: int, *values: int) -> None:
    for index, value in enumerate(values):
        target[index] += sign * value
