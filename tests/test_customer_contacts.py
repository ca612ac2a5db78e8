"""Customer emails are for those who deal with customers (manage_orders, manage_catalog), not for
report readers: the API's customer detail and the admin's customer list and page (ADR 0022)."""

import pytest
from django.test import Client

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, VIEW_REPORTS
from tests.api.conftest import client_for, make_user
from tests.read.rows import add_customer
from tests.read_tables import empty_read_tables

pytestmark = pytest.mark.django_db
EMAIL = "c7@example.com"  # what tests.read.rows gives customer 7
CUSTOMERS = "/admin/orders_read/customerstats/"


@pytest.fixture(autouse=True)
def customer():
    empty_read_tables()
    add_customer(customer_id=7, name="Ada Lovelace")


@pytest.mark.parametrize(
    ("rights", "email"),
    [
        ((VIEW_REPORTS,), None),
        ((MANAGE_ORDERS,), EMAIL),
        ((MANAGE_CATALOG,), EMAIL),
        ((VIEW_REPORTS, MANAGE_CATALOG), EMAIL),
    ],
    ids=["reports-only", "orders", "catalog", "reports-and-catalog"],
)
def test_the_api_shows_the_email_only_to_those_who_deal_with_customers(rights, email):
    response = client_for(make_user(*rights)).get("/api/customers/7/")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Ada Lovelace"
    assert response.json()["email"] == email


def admin_for(*rights: str) -> Client:
    user = make_user(*rights)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_hides_the_email_from_report_only_staff():
    reader, keeper = admin_for(VIEW_REPORTS), admin_for(VIEW_REPORTS, MANAGE_CATALOG)
    for path in (CUSTOMERS, f"{CUSTOMERS}7/change/"):
        assert EMAIL.encode() in keeper.get(path).content, path
        shown = reader.get(path)
        assert shown.status_code == 200 and b"Ada Lovelace" in shown.content, path
        assert EMAIL.encode() not in shown.content, path
