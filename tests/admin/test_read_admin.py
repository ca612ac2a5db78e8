"""The read tables in the admin: view only, for report viewers, searchable and filterable by index.

Rows are put straight into the read tables (``tests.read.rows``), as a projection would.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from config.money import money
from config.rights import VIEW_REPORTS
from orders_read.models import CustomerStats, DailySales, OrderSummary
from tests.admin.staff import login
from tests.read.rows import NOON, add_customer, add_day, add_line, add_order

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders_read/ordersummary/"
CUSTOMERS = "/admin/orders_read/customerstats/"
DAYS = "/admin/orders_read/dailysales/"


@pytest.fixture
def viewer() -> Client:
    return login(VIEW_REPORTS)


def listed_ids(response) -> list[str]:
    return [str(row.pk) for row in response.context["cl"].result_list]


@pytest.fixture
def rows() -> dict[str, str]:
    """One row in each registered read table; return each one's change URL."""
    order = add_order(customer_id=7)
    add_customer(customer_id=7, name="Ada Lovelace")
    add_day(date(2024, 3, 1), orders=3, revenue=7500, cancellations=1)
    return {
        "order": f"{ORDERS}{order.order_id}/change/",
        "customer": f"{CUSTOMERS}7/change/",
        "day": f"{DAYS}2024-03-01/change/",
    }


@pytest.mark.parametrize("table", ["order", "customer", "day"])
def test_read_tables_are_view_only(viewer, rows, table):
    before = (
        list(OrderSummary.objects.values()),
        list(CustomerStats.objects.values()),
        list(DailySales.objects.values()),
    )
    change_url = rows[table]
    list_url = change_url.rsplit("/", 3)[0] + "/"

    page = viewer.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content and b'name="_continue"' not in page.content
    assert viewer.get(f"{list_url}add/").status_code == 403
    assert viewer.post(f"{list_url}add/", {}).status_code == 403
    assert viewer.post(change_url, {"status": "CANCELLED", "name": "Mallory", "orders": 0}).status_code == 403
    assert viewer.get(change_url.replace("/change/", "/delete/")).status_code == 403
    assert viewer.post(change_url.replace("/change/", "/delete/"), {"post": "yes"}).status_code == 403
    listing = viewer.get(list_url)
    assert listing.status_code == 200
    assert b"addlink" not in listing.content and b'name="action"' not in listing.content, "no add, no actions"
    after = (
        list(OrderSummary.objects.values()),
        list(CustomerStats.objects.values()),
        list(DailySales.objects.values()),
    )
    assert after == before


def test_staff_without_the_report_right_see_nothing(rows):
    staff = login()
    for url in (ORDERS, CUSTOMERS, DAYS, rows["order"], f"{DAYS}products/", f"{DAYS}customers/"):
        assert staff.get(url).status_code == 403, url
    assert b"orders_read" not in staff.get("/admin/").content


def test_anonymous_users_are_sent_to_the_login_page():
    response = Client().get(ORDERS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_index_lists_the_read_tables_and_the_app_page_the_extra_pages(viewer):
    index = viewer.get("/admin/").content.decode()
    for url in (ORDERS, CUSTOMERS, DAYS):
        assert url in index
    app = viewer.get("/admin/orders_read/").content.decode()
    assert f"{DAYS}products/" in app and f"{DAYS}customers/" in app


def test_orders_search_by_order_or_customer_number(viewer):
    mine = add_order(customer_id=7)
    theirs = add_order(customer_id=mine.order_id)  # a customer number equal to an order number
    add_order(customer_id=8)

    assert listed_ids(viewer.get(ORDERS, {"q": "7"})) == [str(mine.order_id)]
    assert set(listed_ids(viewer.get(ORDERS, {"q": str(mine.order_id)}))) == {str(mine.order_id), str(theirs.order_id)}
    assert listed_ids(viewer.get(ORDERS, {"q": "Ada"})) == [], "names are not searchable: no index serves it"
    assert listed_ids(viewer.get(ORDERS, {"q": "99999999999999999999"})) == []


def test_orders_filter_by_status_customer_and_date(viewer):
    march = add_order(customer_id=1, status="SHIPPED", placed_at=NOON)
    april = add_order(customer_id=2, status="PENDING", placed_at=NOON + timedelta(days=31))
    last_year = add_order(customer_id=1, status="SHIPPED", placed_at=NOON - timedelta(days=366))
    add_customer(customer_id=1, name="Ada Lovelace")

    assert listed_ids(viewer.get(ORDERS, {"status": "SHIPPED"})) == [str(march.order_id), str(last_year.order_id)]
    by_customer = viewer.get(ORDERS, {"customer": "1"})
    assert listed_ids(by_customer) == [str(march.order_id), str(last_year.order_id)]
    assert b"Ada Lovelace (1)" in by_customer.content, "the active customer filter is named"
    assert listed_ids(viewer.get(ORDERS, {"placed_at__year": "2024", "placed_at__month": "4"})) == [str(april.order_id)]
    assert listed_ids(viewer.get(ORDERS, {"placed_at__year": "2024", "status": "SHIPPED"})) == [str(march.order_id)]


def test_orders_refuse_lookups_no_index_serves(viewer):
    add_order()
    assert viewer.get(ORDERS, {"customer_name__icontains": "a"}).status_code == 400
    assert viewer.get(ORDERS, {"o": "3"}).status_code == 200, "a sort request is ignored, not run"


def test_the_date_drill_down_offers_the_years_months_and_days_between_the_first_and_last_order(viewer):
    add_order(placed_at=datetime(2022, 11, 5, 9, tzinfo=UTC))
    add_order(placed_at=datetime(2024, 2, 3, 9, tzinfo=UTC))
    add_order(placed_at=datetime(2024, 2, 6, 9, tzinfo=UTC))

    def titles(**params):
        nav = viewer.get(ORDERS, params).context["cl"].date_navigation
        return [choice["title"] for choice in nav["choices"]]

    assert titles() == ["2022", "2023", "2024"]
    assert titles(placed_at__year="2024") == ["February 2024"]
    assert titles(placed_at__year="2024", placed_at__month="2") == [f"February {day}" for day in range(3, 7)]
    assert titles(placed_at__year="2024", placed_at__month="2", placed_at__day="6") == ["February 6"]


def test_an_orders_page_shows_its_lines_and_links(viewer):
    order = add_order(customer_id=7, currency="EUR", total=2675)
    add_line(order_id=order.order_id, sku="TEA-1", quantity=2, unit_price=1000, name="Green tea")
    add_line(order_id=order.order_id, sku="CUP-1", quantity=1, unit_price=675, name="Cup")

    page = viewer.get(f"{ORDERS}{order.order_id}/change/").content.decode()

    assert page.index("CUP-1") < page.index("TEA-1"), "lines in sku order"
    assert 'id="order-lines"' in page and "Green tea" in page and "€20.00" in page and "€26.75" in page
    assert f"{CUSTOMERS}7/change/" in page and f"{ORDERS}?customer=7" in page


def test_a_days_page_shows_its_best_products_and_customers(viewer):
    from tests.read.rows import add_customer_day, add_product_day

    day = date(2024, 3, 1)
    add_day(day, orders=2, revenue=5000)
    add_product_day(day, sku="TEA-1", units=3, revenue=3000, name="Green tea")
    add_customer_day(day, customer_id=7, orders=2, revenue=5000)
    add_customer(customer_id=7, name="Ada Lovelace")

    page = viewer.get(f"{DAYS}2024-03-01/change/").content.decode()

    assert 'id="top-products"' in page and "Green tea" in page and "€30.00" in page
    assert 'id="top-customers"' in page and "Ada Lovelace (7)" in page
    assert f"{DAYS}products/?start=2024-03-01&amp;end=2024-03-01" in page


def test_customers_search_by_number_and_filter_by_active(viewer):
    add_customer(customer_id=7, name="Ada Lovelace")
    add_customer(customer_id=8, name="Grace Hopper")
    CustomerStats.objects.filter(customer_id=8).update(is_active=False)

    assert listed_ids(viewer.get(CUSTOMERS, {"q": "8"})) == ["8"]
    assert listed_ids(viewer.get(CUSTOMERS, {"is_active__exact": "1"})) == ["7"]
    assert listed_ids(viewer.get(CUSTOMERS)) == ["8", "7"]


def test_money_is_formatted_from_minor_units_without_floats():
    assert money(123456, "EUR") == "€1,234.56"
    assert money(5, "EUR") == "€0.05"
    assert money(-250, "USD") == "\u2212$2.50"
    assert money(1500, "JPY") == "¥1,500"
    assert money(1234, "KWD") == "KWD\u00a01.234"
    assert money(None) == "\u2013"
