"""The four KPI cards, each set against the previous range of the same length.

A card carries its text already formatted, which way it moved, whether that is good news
(fewer cancellations is), and one plain sentence for screen readers, so the template only
places things.
"""

from dataclasses import dataclass
from typing import Any

from orders_read.dashboard.formatting import NO_VALUE, money, number, percent


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    raw: float | None  # the value as a number (minor units for money), for data attributes
    previous: str
    delta: str | None  # absolute change, formatted; None when either side has no value
    change: str | None  # relative change in percent; None when the previous value is zero
    direction: str  # "up", "down" or "flat"
    tone: str  # "good", "bad" or "neutral"
    summary: str

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼"}.get(self.direction, "▬")


def kpi_cards(current: dict[str, Any], previous: dict[str, Any], *, currency: str, previous_days: int) -> list[Kpi]:
    """Return the cards orders, revenue, average order value and cancellation rate."""
    period = f"the previous {previous_days} day{'s' if previous_days != 1 else ''}"
    formats = {"count": number, "money": lambda value, **kw: money(value, currency, **kw)}
    cards = [
        _card("orders", "Orders", current["orders"], previous["orders"], formats["count"], period),
        _card("revenue", "Revenue", current["revenue"], previous["revenue"], formats["money"], period),
        _card(
            "average-order-value",
            "Average order value",
            current["average_order_value"],
            previous["average_order_value"],
            formats["money"],
            period,
        ),
    ]
    cards.append(_rate_card(_cancellation_rate(current), _cancellation_rate(previous), period))
    return cards


def _card(key: str, label: str, now: int, before: int, fmt, period: str) -> Kpi:
    delta = now - before
    change = percent(100 * delta / before, signed=True) if before else None
    direction = _direction(delta)
    value, previous = fmt(now), fmt(before)
    delta_text = fmt(delta, signed=True)
    if direction == "flat":
        summary = f"{label}: {value}, unchanged from {period}."
    else:
        moved = "up" if delta > 0 else "down"
        by = fmt(abs(delta)) + (f" ({percent(abs(100 * delta / before))})" if before else "")
        summary = f"{label}: {value}, {moved} {by} from {previous} in {period}."
    tone = {"up": "good", "down": "bad"}.get(direction, "neutral")
    return Kpi(key, label, value, now, previous, delta_text, change, direction, tone, summary)


def _rate_card(now: float | None, before: float | None, period: str) -> Kpi:
    label = "Cancellation rate"
    value = percent(now) if now is not None else NO_VALUE
    previous = percent(before) if before is not None else "no orders"
    if now is None or before is None:
        current_text = value if now is not None else "no orders in the range"
        previous_text = f"{previous} in {period}" if before is not None else f"no orders in {period}"
        summary = f"{label}: {current_text}; {previous_text}."
        return Kpi("cancellation-rate", label, value, now, previous, None, None, "flat", "neutral", summary)
    delta = round(now - before, 1)
    direction = _direction(delta)
    if direction == "flat":
        summary = f"{label}: {value}, unchanged from {period}."
    else:
        moved = "up" if delta > 0 else "down"
        by = percent(abs(delta), unit="percentage points")
        summary = f"{label}: {value}, {moved} {by} from {previous} in {period}."
    tone = {"up": "bad", "down": "good"}.get(direction, "neutral")  # fewer cancellations is better
    delta_text = percent(delta, signed=True, unit="pp")
    return Kpi("cancellation-rate", label, value, now, previous, delta_text, None, direction, tone, summary)


def _cancellation_rate(totals: dict[str, Any]) -> float | None:
    """Return the percentage of the range's orders cancelled since, or None without orders."""
    return 100 * totals["cancellations"] / totals["orders"] if totals["orders"] else None


def _direction(delta: float) -> str:
    return "up" if delta > 0 else "down" if delta < 0 else "flat"
