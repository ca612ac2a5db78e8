"""CSV exports: one attachment per table, a header row, money in minor units beside a currency."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from tests.read.rows import add_customer, add_customer_day, add_day, add_order, add_product_day

pytestmark = pytest.mark.usefixtures("read_tables")

MARCH_1, MARCH_2 = date(2024, 3, 1), date(2024, 3, 2)
RANGE = "from=2024-03-01&to=2024-03-02"


@pytest.fixture
def rows():
    add_day(MARCH_1, orders=3, revenue=4500, cancellations=1, discount_total=100)
    add_product_day(MARCH_1, sku="TEA", units=4, revenue=5000, name="Tea")
    add_product_day(MARCH_2, sku="TEA", units=1, revenue=1250, name="Tea")
    add_product_day(MARCH_2, sku="CUP", units=9, revenue=9000, name="Cup")
    add_customer(customer_id=7, name='=HYPERLINK("http://evil")')
    add_customer(customer_id=8, name="Grace Hopper")
    add_customer_day(MARCH_1, customer_id=7, orders=1, revenue=700)
    add_customer_day(MARCH_2, customer_id=8, orders=2, revenue=3800)
    add_order(order_id=41, status="CANCELLED", placed_at=datetime(2024, 3, 1, 9, tzinfo=UTC), total=1500)
    add_order(order_id=42, status="PENDING", placed_at=datetime(2024, 3, 2, 23, 59, tzinfo=UTC), discount=100)
    add_order(order_id=43, status="PENDING", placed_at=datetime(2024, 3, 3, tzinfo=UTC))  # after the range


def _csv(client, name: str, query: str = RANGE):
    response = client.get(f"/dashboard/export/{name}.csv?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response, list(csv.reader(io.StringIO(response.content.decode())))


def test_daily_sales_has_one_row_per_day_with_money_in_minor_units(rows, viewer_client):
    response, table = _csv(viewer_client, "daily-sales")

    assert response["Content-Disposition"] == 'attachment; filename="daily-sales_2024-03-01_2024-03-02.csv"'
    assert table == [
        [
            "day",
            "orders",
            "cancellations",
            "revenue_minor_units",
            "discount_total_minor_units",
            "average_order_value_minor_units",
            "currency",
        ],
        ["2024-03-01", "3", "1", "4500", "100", "2250", "EUR"],
        ["2024-03-02", "0", "0", "0", "0", "0", "EUR"],
    ]


def test_orders_by_status_lists_every_status(rows, viewer_client):
    _, table = _csv(viewer_client, "orders-by-status")

    assert table == [
        ["status", "orders"],
        ["PENDING", "1"],
        ["CONFIRMED", "0"],
        ["SHIPPED", "0"],
        ["DELIVERED", "0"],
        ["CANCELLED", "1"],
    ]


def test_top_products_are_ranked_over_the_range(rows, viewer_client):
    _, table = _csv(viewer_client, "top-products")

    assert table == [
        ["rank", "sku", "product_name", "units", "revenue_minor_units", "currency"],
        ["1", "CUP", "Cup", "9", "9000", "EUR"],
        ["2", "TEA", "Tea", "5", "6250", "EUR"],
    ]


def test_top_customers_defuse_names_a_spreadsheet_would_run_as_formulas(rows, viewer_client):
    _, table = _csv(viewer_client, "top-customers")

    assert table == [
        ["rank", "customer_id", "customer_name", "orders", "revenue_minor_units", "currency"],
        ["1", "8", "Grace Hopper", "2", "3800", "EUR"],
        ["2", "7", '\'=HYPERLINK("http://evil")', "1", "700", "EUR"],
    ]


def test_recent_orders_are_newest_first_within_the_range(rows, viewer_client):
    _, table = _csv(viewer_client, "recent-orders")

    assert table[0] == [
        "order_id",
        "placed_at",
        "customer_id",
        "customer_name",
        "status",
        "item_count",
        "discount_minor_units",
        "total_minor_units",
        "currency",
        "version",
    ]
    assert table[1:] == [
        ["42", "2024-03-02T23:59:00+00:00", "1", "Ada Lovelace", "PENDING", "2", "100", "2500", "EUR", "1"],
        ["41", "2024-03-01T09:00:00+00:00", "1", "Ada Lovelace", "CANCELLED", "2", "0", "1500", "EUR", "1"],
    ]


def test_an_empty_range_still_has_its_header_row(viewer_client):
    _, table = _csv(viewer_client, "top-products")

    assert table == [["rank", "sku", "product_name", "units", "revenue_minor_units", "currency"]]


def test_a_preset_names_the_range_too(viewer_client):
    response, _ = _csv(viewer_client, "orders-by-status", "range=today")

    assert response["Content-Disposition"].startswith('attachment; filename="orders-by-status_')


def test_an_unknown_table_is_a_404(viewer_client):
    assert viewer_client.get("/dashboard/export/customers.csv").status_code == 404
    assert viewer_client.get("/dashboard/export/daily-sales.json").status_code == 404


@pytest.mark.parametrize("query", ["from=2024-03-05&to=2024-03-01", "from=2010-01-01&to=2024-01-01", "to=nonsense"])
def test_a_bad_range_is_a_400_not_a_different_file(viewer_client, query):
    response = viewer_client.get(f"/dashboard/export/daily-sales.csv?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("Invalid range: ")


def test_the_page_links_each_export_to_the_range_shown(rows, viewer_client):
    page = viewer_client.get(f"/dashboard/?{RANGE}").content.decode()

    for name in ("daily-sales", "orders-by-status", "top-products", "top-customers", "recent-orders"):
        assert f'id="export-{name}" href="/dashboard/export/{name}.csv?{RANGE.replace("&", "&amp;")}" download' in page
