"""The dashboard and its CSV files show what orders placed through the services add up to.

Orders are placed (some in the previous range, one cancelled) through the domain services at
chosen times, the projections are drained, and the page and the files are read back.
"""

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils.formats import date_format

from config.rights import VIEW_REPORTS
from orders_read.dashboard.figures import with_day_text
from orders_read.dashboard.freshness import STATE_LABELS, STATE_TONES
from orders_read.dashboard.range import today_utc
from orders_write.clock import frozen_at
from orders_write.services import LineInput, order_cancel, order_confirm, order_place
from projections.runtime.status import State
from tests.dashboard.conftest import logged_in, make_user

TODAY = today_utc()


def _day(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(0, 1), tzinfo=UTC)


@pytest.fixture
def shop(drain_to_head, make_customer, make_product):
    """Three orders in the last 7 days (one cancelled) and one in the 7 days before; drained."""
    ada, bob = make_customer("Ada Lovelace"), make_customer("Bob Babbage")
    teapot = make_product(price=1250, name="Teapot", sku="TEA-POT")
    kettle = make_product(price=4000, name="Kettle", sku="KETTLE")
    cup = make_product(price=1000, name="Cup", sku="CUP")
    with frozen_at(_day(10)):
        earlier = order_place(customer_id=bob, lines=[LineInput(sku=cup, quantity=1)]).order_id
    with frozen_at(_day(2)):
        cancelled = order_place(customer_id=bob, lines=[LineInput(sku=kettle, quantity=1)]).order_id
        order_cancel(order_id=cancelled, reason="changed mind")
    with frozen_at(_day(1)):
        pending = order_place(customer_id=ada, lines=[LineInput(sku=teapot, quantity=2)]).order_id
    with frozen_at(_day(0)):
        confirmed = order_place(customer_id=ada, lines=[LineInput(sku=cup, quantity=3)]).order_id
        order_confirm(order_id=confirmed)
    head = drain_to_head()
    return {
        "ada": ada,
        "bob": bob,
        "earlier": earlier,
        "cancelled": cancelled,
        "pending": pending,
        "confirmed": confirmed,
        "head": head,
    }


@pytest.fixture
def client(projected):
    return logged_in(make_user(VIEW_REPORTS, staff=True))


def _last_7_days() -> str:
    return f"from={(TODAY - timedelta(days=6)).isoformat()}&to={TODAY.isoformat()}"


def test_the_kpis_add_up_the_range_and_compare_with_the_previous_one(shop, client):
    response = client.get(f"/dashboard/?{_last_7_days()}")

    assert response.status_code == 200
    kpis = {kpi.key: kpi for kpi in response.context["kpis"]}
    orders, revenue = kpis["orders"], kpis["revenue"]
    average, rate = kpis["average-order-value"], kpis["cancellation-rate"]
    assert (orders.value, orders.previous, orders.delta, orders.change) == ("3", "1", "+2", "+200.0\u00a0%")
    assert (revenue.value, revenue.previous, revenue.delta) == ("€55.00", "€10.00", "+€45.00")
    assert revenue.change == "+450.0\u00a0%"
    assert (average.value, average.previous, average.delta) == ("€27.50", "€10.00", "+€17.50")
    assert (rate.value, rate.previous, rate.delta) == ("33.3\u00a0%", "0.0\u00a0%", "+33.3\u00a0pp")
    assert (orders.direction, orders.tone, rate.direction, rate.tone) == ("up", "good", "up", "bad")
    assert orders.summary == "Orders: 3, up 2 (200.0\u00a0%) from 1 in the previous 7 days."

    page = response.content.decode()
    assert 'id="kpi-revenue"' in page
    assert 'data-value="5500"' in page
    assert "Revenue: €55.00, up €45.00 (450.0\u00a0%) from €10.00 in the previous 7 days." in page


def test_the_charts_tables_and_links_show_the_orders(shop, client):
    response = client.get(f"/dashboard/?{_last_7_days()}")
    context, page = response.context, response.content.decode()

    chart = context["chart_data"]
    assert chart["days"] == [(TODAY - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    assert chart["revenue"] == [0, 0, 0, 0, 0, 2500, 3000]
    assert chart["orders"] == [0, 0, 0, 0, 1, 1, 1]
    assert chart["cancellations"] == [0, 0, 0, 0, 1, 0, 0]
    assert (chart["currency"], chart["currency_exponent"]) == ("EUR", 2)
    embedded = page.split('<script id="dashboard-data" type="application/json">')[1].split("</script>")[0]
    assert json.loads(embedded) == chart

    counts = {row["status"]: row["count"] for row in context["statuses"]}
    assert counts == {"PENDING": 1, "CONFIRMED": 1, "SHIPPED": 0, "DELIVERED": 0, "CANCELLED": 1}
    products = [(row["sku"], row["units"], row["revenue_text"]) for row in context["products"]]
    assert products == [("CUP", 3, "€30.00"), ("TEA-POT", 2, "€25.00")]  # the cancelled kettle is out
    assert [(row["name"], row["orders"], row["revenue"]) for row in context["customers"]] == [
        ("Ada Lovelace", 2, 5500),
        ("Bob Babbage", 1, 0),  # orders count cancelled ones too; revenue does not
    ]
    assert [row["order_id"] for row in context["recent"]] == [shop["confirmed"], shop["pending"], shop["cancelled"]]
    assert f'href="/admin/orders_write/order/{shop["confirmed"]}/change/"' in page
    assert f'href="/api/orders/{shop["confirmed"]}/"' in page


def test_projection_health_says_the_data_is_current_as_of_the_outbox_head(shop, client):
    response = client.get("/dashboard/")

    freshness = response.context["freshness"]
    assert freshness.position == shop["head"]
    assert freshness.current
    states = {row["name"]: row["state"] for row in freshness.projections}
    assert states == {"order_views": "idle", "sales": "idle", "reports": "idle", "webhooks": "idle"}
    page = response.content.decode()
    assert f'id="data-as-of" data-position="{shop["head"]}"' in page
    assert 'id="projection-sales" data-state="idle"' in page


def test_the_csv_files_hold_the_same_figures(shop, client):
    def table(name: str) -> list[list[str]]:
        response = client.get(f"/dashboard/export/{name}.csv?{_last_7_days()}")
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.content.decode())))

    daily = table("daily-sales")
    assert daily[-3:] == [
        [(TODAY - timedelta(days=2)).isoformat(), "1", "1", "0", "0", "0", "EUR"],
        [(TODAY - timedelta(days=1)).isoformat(), "1", "0", "2500", "0", "2500", "EUR"],
        [TODAY.isoformat(), "1", "0", "3000", "0", "3000", "EUR"],
    ]
    assert table("orders-by-status")[1:] == [
        ["PENDING", "1"],
        ["CONFIRMED", "1"],
        ["SHIPPED", "0"],
        ["DELIVERED", "0"],
        ["CANCELLED", "1"],
    ]
    assert table("top-products")[1:] == [
        ["1", "CUP", "Cup", "3", "3000", "EUR"],
        ["2", "TEA-POT", "Teapot", "2", "2500", "EUR"],
    ]
    assert table("top-customers")[1:] == [
        ["1", str(shop["ada"]), "Ada Lovelace", "2", "5500", "EUR"],
        ["2", str(shop["bob"]), "Bob Babbage", "1", "0", "EUR"],
    ]
    recent = table("recent-orders")[1:]
    assert [(row[0], row[4], row[7]) for row in recent] == [
        (str(shop["confirmed"]), "CONFIRMED", "3000"),
        (str(shop["pending"]), "PENDING", "2500"),
        (str(shop["cancelled"]), "CANCELLED", "4000"),
    ]


@pytest.mark.parametrize("by_month, iso, label", [(False, "Y-m-d", "D j M Y"), (True, "Y-m", "M Y")])
def test_the_series_days_read_as_the_date_filter_would_write_them(by_month, iso, label):
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(0, 800, 13)]  # every weekday and month

    rows = with_day_text([{"day": day} for day in days], by_month=by_month)

    assert [row["day_iso"] for row in rows] == [date_format(day, iso) for day in days]
    assert [row["day_label"] for row in rows] == [date_format(day, label) for day in days]


def test_every_consumer_state_has_a_label_and_a_tone():
    assert set(STATE_LABELS) == set(State) == set(STATE_TONES)
    assert STATE_TONES["receiver_unavailable"] == "bad"
