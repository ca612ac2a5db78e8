"""Sales reports and projection health over HTTP: exact figures, ranges, defaults, rights.

The figures are worked out by hand from orders placed through the services on fixed UTC days,
including a discount and a cancellation (a cancelled order counts as an order and a
cancellation, never as revenue, discount or units).
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from orders_write.clock import frozen_at
from orders_write.services import (
    LineInput,
    customer_register,
    order_cancel,
    order_confirm,
    order_discount_apply,
    order_place,
)
from tests.api.conftest import client_for, make_user

D1, D2, D3, D4 = (date(2024, 5, day) for day in (1, 2, 3, 4))
REPORTS = (
    "/api/reports/summary/",
    "/api/reports/daily-sales/",
    "/api/reports/top-products/",
    "/api/reports/top-customers/",
)
ZERO_STATUSES = {"PENDING": 0, "CONFIRMED": 0, "SHIPPED": 0, "DELIVERED": 0, "CANCELLED": 0}


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def place(customer_id: int, lines: list[tuple[str, int]], *, when: datetime) -> int:
    with frozen_at(when):
        return order_place(customer_id=customer_id, lines=[LineInput(sku, qty) for sku, qty in lines]).order_id


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def sales(drain, make_product):
    """Four orders on D1, D2 and D4 (none on D3).

    D1  A  Ada  2 x KETTLE (1000) + 1 x MUG (501) = 2501, 10 % off -> discount 250, total 2251, PENDING
    D1  B  Bob  1 x KETTLE = 1000, 100 off -> 900, then CANCELLED (counts nothing but itself)
    D2  C  Ada  3 x MUG = 1503, CONFIRMED
    D4  D  Bob  5 x KETTLE = 5000 (outside D1..D3)
    """
    ada = customer_register(name="Ada Lovelace", email="ada@example.com").aggregate_id
    bob = customer_register(name="Bob Noyce", email="bob@example.com").aggregate_id
    kettle = make_product(price=1000, name="Kettle", sku="KETTLE")
    mug = make_product(price=501, name="Mug", sku="MUG")
    a = place(ada, [(kettle, 2), (mug, 1)], when=at(D1, 9))
    with frozen_at(at(D1, 10)):
        order_discount_apply(order_id=a, percent=10)
    b = place(bob, [(kettle, 1)], when=at(D1, 23))
    with frozen_at(at(D2, 1)):  # cancelled the next day: it still belongs to D1, the day it was placed
        order_discount_apply(order_id=b, amount=100)
        order_cancel(order_id=b, reason="ordered twice")
    c = place(ada, [(mug, 3)], when=at(D2, 0))
    with frozen_at(at(D2, 8)):
        order_confirm(order_id=c)
    place(bob, [(kettle, 5)], when=at(D4, 0))
    drain()
    return {"ada": ada, "bob": bob}


def test_summary_adds_up_the_orders_of_the_range(manager_client, sales):
    response = manager_client.get("/api/reports/summary/", {"from": D1, "to": D3})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "from": "2024-05-01",
        "to": "2024-05-03",
        "orders": 3,
        "cancellations": 1,
        "revenue": 2251 + 1503,
        "discount_total": 250,
        "average_order_value": (2251 + 1503) // 2,
        "orders_by_status": {**ZERO_STATUSES, "PENDING": 1, "CONFIRMED": 1, "CANCELLED": 1},
    }
    assert int(response["X-Projection-Position"]) > 0


def test_summary_of_one_day_and_of_an_empty_range(manager_client, sales):
    d4 = manager_client.get("/api/reports/summary/", {"from": D4, "to": D4}).json()
    empty = manager_client.get("/api/reports/summary/", {"from": D3, "to": D3}).json()

    assert (d4["orders"], d4["revenue"], d4["average_order_value"]) == (1, 5000, 5000)
    assert d4["orders_by_status"] == {**ZERO_STATUSES, "PENDING": 1}
    assert empty == {"from": "2024-05-03", "to": "2024-05-03", "orders": 0, "cancellations": 0, "revenue": 0,
                     "discount_total": 0, "average_order_value": 0, "orders_by_status": ZERO_STATUSES}  # fmt: skip


def test_daily_sales_has_one_row_per_day_zeros_included(manager_client, sales):
    response = manager_client.get("/api/reports/daily-sales/", {"from": D1, "to": D3})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [
            {"day": "2024-05-01", "orders": 2, "cancellations": 1, "revenue": 2251, "discount_total": 250,
             "average_order_value": 2251},
            {"day": "2024-05-02", "orders": 1, "cancellations": 0, "revenue": 1503, "discount_total": 0,
             "average_order_value": 1503},
            {"day": "2024-05-03", "orders": 0, "cancellations": 0, "revenue": 0, "discount_total": 0,
             "average_order_value": 0},
        ],
        "next": None,
    }  # fmt: skip


def test_top_products_rank_line_revenue_of_kept_orders(manager_client, sales):
    response = manager_client.get("/api/reports/top-products/", {"from": D1, "to": D3})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [
            {"sku": "MUG", "product_name": "Mug", "units": 4, "revenue": 501 + 1503},
            {"sku": "KETTLE", "product_name": "Kettle", "units": 2, "revenue": 2000},  # not the cancelled one
        ],
        "next": None,
    }
    whole = manager_client.get("/api/reports/top-products/", {"from": D1, "to": D4}).json()["results"]
    assert [(row["sku"], row["units"], row["revenue"]) for row in whole] == [("KETTLE", 7, 7000), ("MUG", 4, 2004)]
    top = manager_client.get("/api/reports/top-products/", {"from": D1, "to": D4, "limit": 1}).json()["results"]
    assert [row["sku"] for row in top] == ["KETTLE"]


def test_top_customers_rank_revenue_and_count_orders(manager_client, sales):
    response = manager_client.get("/api/reports/top-customers/", {"from": D1, "to": D3})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [
            {"customer_id": sales["ada"], "name": "Ada Lovelace", "orders": 2, "revenue": 2251 + 1503},
            {"customer_id": sales["bob"], "name": "Bob Noyce", "orders": 1, "revenue": 0},
        ],
        "next": None,
    }
    whole = manager_client.get("/api/reports/top-customers/", {"from": D1, "to": D4, "limit": 1}).json()["results"]
    assert whole == [{"customer_id": sales["bob"], "name": "Bob Noyce", "orders": 2, "revenue": 5000}]


def test_the_default_range_is_the_last_30_days_up_to_today(manager_client, drain, customer, make_product):
    today = timezone.now().date()
    sku = make_product(price=700, sku="DEFAULT")
    place(customer, [(sku, 1)], when=at(today - timedelta(days=30)))  # one day too old
    place(customer, [(sku, 2)], when=datetime.combine(today - timedelta(days=29), time.min, tzinfo=UTC))
    place(customer, [(sku, 3)], when=timezone.now())
    drain()

    summary = manager_client.get("/api/reports/summary/").json()
    daily = manager_client.get("/api/reports/daily-sales/").json()["results"]
    products = manager_client.get("/api/reports/top-products/").json()["results"]
    customers = manager_client.get("/api/reports/top-customers/").json()["results"]

    assert (summary["from"], summary["to"]) == (str(today - timedelta(days=29)), str(today))
    assert (summary["orders"], summary["revenue"]) == (2, 3500)
    assert len(daily) == 30
    assert (daily[0]["day"], daily[-1]["day"]) == (str(today - timedelta(days=29)), str(today))
    assert (daily[0]["revenue"], daily[-1]["revenue"], sum(row["orders"] for row in daily)) == (1400, 2100, 2)
    assert products == [{"sku": "DEFAULT", "product_name": "Widget", "units": 5, "revenue": 3500}]
    assert [(row["customer_id"], row["orders"], row["revenue"]) for row in customers] == [(customer, 2, 3500)]


def test_a_missing_end_of_the_range_takes_its_default(manager_client, sales):
    today = timezone.now().date()
    only_to = manager_client.get("/api/reports/summary/", {"to": D4}).json()
    only_from = manager_client.get("/api/reports/daily-sales/", {"from": today - timedelta(days=9)}).json()

    assert (only_to["from"], only_to["to"], only_to["orders"]) == (str(D4 - timedelta(days=29)), "2024-05-04", 4)
    assert [row["day"] for row in only_from["results"]] == [str(today - timedelta(days=n)) for n in range(9, -1, -1)]


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2024-05-03", "to": "2024-05-01"}, "from"),
        ({"from": "2024-13-01", "to": "2024-12-31"}, "from"),
        ({"from": "2024-05-01", "to": "tomorrow"}, "to"),
        ({"from": "2024-05-01T00:00:00Z"}, "from"),
        ({"to": "2024-02-30"}, "to"),
    ],
)
def test_a_bad_range_is_a_400(manager_client, path, params, field):
    error = error_of(manager_client.get(path, params), 400, "validation_error")

    assert list(error["details"]) == [field]


@pytest.mark.parametrize("path", REPORTS[1:])
def test_a_series_or_ranking_spans_at_most_366_days(manager_client, path):
    error = error_of(manager_client.get(path, {"from": "2023-05-01", "to": "2024-05-01"}), 400, "validation_error")

    assert error["details"] == {"from": ["a range spans at most 366 days"]}


def test_the_summary_spans_up_to_ten_years_from_the_rollups(manager_client, sales):
    longest = manager_client.get("/api/reports/summary/", {"from": "2014-05-05", "to": "2024-05-04"})  # 3,653 days
    too_long = manager_client.get("/api/reports/summary/", {"from": "2014-05-04", "to": "2024-05-04"})

    assert longest.status_code == 200, longest.content
    assert (longest.json()["orders"], longest.json()["cancellations"]) == (4, 1)
    assert longest.json()["orders_by_status"] == {**ZERO_STATUSES, "PENDING": 2, "CONFIRMED": 1, "CANCELLED": 1}
    error = error_of(too_long, 400, "validation_error")
    assert error["details"] == {"from": ["a range spans at most 3653 days"]}


@pytest.mark.parametrize("path", REPORTS)
def test_a_range_of_366_days_is_the_longest_allowed(manager_client, path):
    response = manager_client.get(path, {"from": "2023-05-02", "to": "2024-05-01"})  # 2024 is a leap year

    assert response.status_code == 200, response.content
    if path.endswith("daily-sales/"):
        assert len(response.json()["results"]) == 366


@pytest.mark.parametrize("path", ["/api/reports/top-products/", "/api/reports/top-customers/"])
@pytest.mark.parametrize("limit", [0, 101, "ten"])
def test_a_bad_ranking_limit_is_a_400(manager_client, path, limit):
    error = error_of(manager_client.get(path, {"limit": limit}), 400, "validation_error")

    assert list(error["details"]) == ["limit"]


def test_projections_lists_every_projection_with_its_state(manager_client, drain, customer, sku):
    order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    drain()

    idle = manager_client.get("/api/projections/")

    assert idle.status_code == 200, idle.content
    body = idle.json()
    assert body["next"] is None
    rows = {row["name"]: row for row in body["results"]}
    assert set(rows) == {"order_views", "sales", "reports", "webhooks"}
    for row in rows.values():
        assert row["state"] == "idle"
        assert (row["lag_events"], row["lag_seconds"], row["parked"], row["last_error"]) == (0, 0.0, 0, None)
        # CustomerRegistered and OrderPlaced; the reports projection reads order events only, the
        # webhooks relay every event (the product's too).
        assert row["events_applied"] == {"reports": 1, "webhooks": 3}.get(row["name"], 2)
        assert row["heartbeat_at"] is not None
        assert row["head"] >= row["position"] > 0
    assert int(idle["X-Projection-Position"]) == rows["order_views"]["head"]

    order_place(customer_id=customer, lines=[LineInput(sku, 2)])  # not drained
    behind = {row["name"]: row for row in manager_client.get("/api/projections/").json()["results"]}
    for row in behind.values():
        assert (row["state"], row["lag_events"]) == ("catching_up", 1)
        assert row["head"] > row["position"]


@pytest.mark.parametrize("path", [*REPORTS, "/api/projections/"])
def test_only_report_viewers_may_read_reports_and_projections(request, db, path):
    for who in ("manager_client", "admin_client_api"):
        response = request.getfixturevalue(who).get(path)
        assert response.status_code == 200, (who, response.content)

    for who in ("clerk_client", "catalog_client"):
        error_of(request.getfixturevalue(who).get(path), 403, "permission_denied")
    error_of(client_for(make_user()).get(path), 403, "permission_denied")
    error_of(request.getfixturevalue("anonymous_client").get(path), 401, "not_authenticated")


def test_bad_input_is_checked_only_after_the_rights(clerk_client, anonymous_client):
    error_of(clerk_client.get("/api/reports/summary/", {"from": "nonsense"}), 403, "permission_denied")
    error_of(anonymous_client.get("/api/reports/summary/", {"from": "nonsense"}), 401, "not_authenticated")
