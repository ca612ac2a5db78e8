"""KPI cards and the formatting behind them: deltas, arrows, tones and the screen-reader sentence."""

from orders_read.dashboard.formatting import money, percent
from orders_read.dashboard.kpis import kpi_cards


def _totals(orders: int, revenue: int, cancellations: int = 0, average: int = 0) -> dict[str, int]:
    return {"orders": orders, "revenue": revenue, "cancellations": cancellations, "average_order_value": average}


def _cards(current, previous, days: int = 30):
    return {card.key: card for card in kpi_cards(current, previous, currency="EUR", previous_days=days)}


def test_a_fall_points_down_and_a_fall_in_cancellations_is_good_news():
    cards = _cards(_totals(8, 4_000, 1, 571), _totals(10, 5_000, 5, 1_000))

    revenue, rate = cards["revenue"], cards["cancellation-rate"]
    assert (revenue.delta, revenue.change, revenue.direction, revenue.tone, revenue.arrow) == (
        "\u2212€10.00",
        "\u221220.0\u00a0%",
        "down",
        "bad",
        "▼",
    )
    assert revenue.summary == "Revenue: €40.00, down €10.00 (20.0\u00a0%) from €50.00 in the previous 30 days."
    assert (rate.value, rate.previous, rate.delta, rate.direction, rate.tone) == (
        "12.5\u00a0%",
        "50.0\u00a0%",
        "\u221237.5\u00a0pp",
        "down",
        "good",
    )
    assert rate.summary == (
        "Cancellation rate: 12.5\u00a0%, down 37.5\u00a0percentage points from 50.0\u00a0% in the previous 30 days."
    )


def test_without_a_previous_value_there_is_no_percentage_change():
    cards = _cards(_totals(2, 3_000, 0, 1_500), _totals(0, 0), days=1)

    orders = cards["orders"]
    assert (orders.delta, orders.change, orders.direction) == ("+2", None, "up")
    assert orders.summary == "Orders: 2, up 2 from 0 in the previous 1 day."
    rate = cards["cancellation-rate"]
    assert (rate.value, rate.previous, rate.delta, rate.direction) == ("0.0\u00a0%", "no orders", None, "flat")
    assert rate.summary == "Cancellation rate: 0.0\u00a0%; no orders in the previous 1 day."


def test_no_orders_at_all_reads_as_unchanged_and_no_rate():
    cards = _cards(_totals(0, 0), _totals(0, 0))

    assert cards["orders"].summary == "Orders: 0, unchanged from the previous 30 days."
    assert (cards["orders"].direction, cards["orders"].tone, cards["orders"].arrow) == ("flat", "neutral", "▬")
    assert cards["cancellation-rate"].value == "\u2013"
    assert (
        cards["cancellation-rate"].summary
        == "Cancellation rate: no orders in the range; no orders in the previous 30 days."
    )


def test_money_is_formatted_from_minor_units_with_the_currencys_decimals():
    assert money(123_456_789, "EUR") == "€1,234,567.89"
    assert money(5, "USD") == "$0.05"
    assert money(-1_050, "GBP", signed=True) == "\u2212£10.50"
    assert money(1_050, "GBP", signed=True) == "+£10.50"
    assert money(1_500, "JPY") == "¥1,500"
    assert money(1_500, "KWD") == "KWD\u00a01.500"
    assert money(0, "SEK") == "SEK\u00a00.00"


def test_percentages_round_to_one_decimal():
    assert percent(33.333) == "33.3\u00a0%"
    assert percent(-0.04, signed=True) == "0.0\u00a0%"
    assert percent(2.25, signed=True, unit="pp") == "+2.2\u00a0pp"
