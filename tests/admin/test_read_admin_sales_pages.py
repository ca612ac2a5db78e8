"""The pages of the composite-key read tables (``product_sales``, ``customer_sales``)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from config.rights import VIEW_REPORTS
from orders_read.admin import sales_pages
from tests.read.rows import add_customer, add_customer_day, add_product_day

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/orders_read/dailysales/products/"
CUSTOMERS = "/admin/orders_read/dailysales/customers/"


@pytest.fixture
def viewer() -> Client:
    user = get_user_model().objects.create_user(username="viewer", is_staff=True)
    app_label, codename = VIEW_REPORTS.split(".")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def cells(response) -> list[list[str]]:
    return [[str(cell["text"]) for cell in row] for row in response.context["table"].rows]


def test_product_sales_newest_day_first_filtered_by_range_and_sku(viewer):
    add_product_day(date(2024, 3, 1), sku="TEA-1", units=2, revenue=2000, name="Green tea")
    add_product_day(date(2024, 3, 2), sku="TEA-1", units=1, revenue=1000, name="Green tea")
    add_product_day(date(2024, 3, 2), sku="CUP-1", units=5, revenue=3375, name="Cup")
    add_product_day(date(2024, 4, 1), sku="TEA-1", units=9, revenue=9000, name="Green tea")

    march = viewer.get(PRODUCTS, {"start": "2024-03-01", "end": "2024-03-31"})
    assert cells(march) == [
        ["2024-03-02", "TEA-1", "Green tea", "1", "€10.00"],
        ["2024-03-02", "CUP-1", "Cup", "5", "€33.75"],
        ["2024-03-01", "TEA-1", "Green tea", "2", "€20.00"],
    ]
    assert b'id="product-sales"' in march.content
    tea = viewer.get(PRODUCTS, {"start": "2024-03-01", "end": "2024-04-30", "sku": "TEA-1"})
    assert [row[0] for row in cells(tea)] == ["2024-04-01", "2024-03-02", "2024-03-01"]


def test_customer_sales_name_the_customers(viewer):
    add_customer(customer_id=7, name="Ada Lovelace")
    add_customer_day(date(2024, 3, 1), customer_id=7, orders=2, revenue=5000)
    add_customer_day(date(2024, 3, 1), customer_id=8, orders=1, revenue=100)  # not projected into stats yet

    page = viewer.get(CUSTOMERS, {"start": "2024-03-01", "end": "2024-03-01"})
    assert cells(page) == [
        ["2024-03-01", "Customer (8)", "1", "€1.00"],
        ["2024-03-01", "Ada Lovelace (7)", "2", "€50.00"],
    ]
    only_ada = viewer.get(CUSTOMERS, {"start": "2024-03-01", "end": "2024-03-01", "customer_id": "7"})
    assert cells(only_ada) == [["2024-03-01", "Ada Lovelace (7)", "2", "€50.00"]]


def test_the_default_range_is_the_last_30_days(viewer):
    today = timezone.now().date()
    add_product_day(today, sku="NEW", units=1, revenue=100)
    add_product_day(today - timedelta(days=30), sku="OLD", units=1, revenue=100)
    assert [row[1] for row in cells(viewer.get(PRODUCTS))] == ["NEW"]


def test_a_reversed_range_is_an_error_and_a_long_one_is_cut_to_a_year(viewer):
    reversed_range = viewer.get(PRODUCTS, {"start": "2024-03-02", "end": "2024-03-01"})
    assert reversed_range.status_code == 200 and b"must not be after" in reversed_range.content
    long_range = viewer.get(PRODUCTS, {"start": "2000-01-01", "end": "2024-03-01"})
    assert long_range.context["narrowed"] and long_range.context["form"].cleaned_data["start"] == date(2023, 3, 2)


def test_pages_go_older_and_newer(viewer, monkeypatch):
    monkeypatch.setattr(sales_pages, "PAGE_SIZE", 2)
    for day in range(1, 6):
        add_product_day(date(2024, 3, day), sku="TEA-1", units=day, revenue=100)
    params = {"start": "2024-03-01", "end": "2024-03-31"}

    first = viewer.get(PRODUCTS, params)
    assert [row[0] for row in cells(first)] == ["2024-03-05", "2024-03-04"]
    assert first.context["newer_url"] is None
    second = viewer.get(PRODUCTS + first.context["older_url"])
    assert [row[0] for row in cells(second)] == ["2024-03-03", "2024-03-02"]
    last = viewer.get(PRODUCTS + second.context["older_url"])
    assert [row[0] for row in cells(last)] == ["2024-03-01"] and last.context["older_url"] is None
    assert viewer.get(PRODUCTS + last.context["newer_url"]).context["page"] == 2
