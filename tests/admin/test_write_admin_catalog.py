"""Customers and products in the write admin: every save is a service call, stamped with the staff actor."""

import pytest
from django.contrib.admin.models import LogEntry

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS
from orders_write.services import customer_deactivate, customer_rename, product_reprice
from tests.admin.test_write_admin_support import actor, log_in, messages_of, outbox

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/orders_write/customer/"
PRODUCTS = "/admin/orders_write/product/"


def form_errors(response) -> str:
    form = response.context["adminform"].form
    return " ".join([*form.non_field_errors(), *(e for errors in form.errors.values() for e in errors)])


def test_registering_a_customer_calls_the_service_as_the_staff_member(client):
    staff = log_in(client, MANAGE_CATALOG)
    response = client.post(f"{CUSTOMERS}add/", {"name": "Grace Hopper", "email": "Grace@Example.com"})
    assert response.status_code == 302
    assert outbox() == [("CustomerRegistered", actor(staff))]
    assert LogEntry.objects.filter(user=staff).count() == 1


def test_renaming_a_customer_carries_the_version_seen(client, customer):
    staff = log_in(client, MANAGE_CATALOG)
    page = client.get(f"{CUSTOMERS}{customer}/change/")
    assert 'name="expected_version" value="1"' in page.content.decode()
    response = client.post(f"{CUSTOMERS}{customer}/change/", {"name": "Ada King", "expected_version": "1"})
    assert response.status_code == 302
    assert outbox()[-1] == ("CustomerRenamed", actor(staff))


def test_renaming_and_deactivating_in_one_save_runs_both_commands(client, customer):
    staff = log_in(client, MANAGE_CATALOG)
    data = {"name": "Ada King", "deactivate": "on", "expected_version": "1"}
    assert client.post(f"{CUSTOMERS}{customer}/change/", data).status_code == 302
    assert outbox()[-2:] == [("CustomerRenamed", actor(staff)), ("CustomerDeactivated", actor(staff))]


def test_a_stale_customer_version_is_refused_on_the_form_and_nothing_is_written(client, customer):
    log_in(client, MANAGE_CATALOG)
    customer_rename(customer_id=customer, name="Changed Meanwhile")  # now version 2
    before = outbox()
    response = client.post(f"{CUSTOMERS}{customer}/change/", {"name": "Mine", "expected_version": "1"})
    assert response.status_code == 200
    assert "Someone changed this customer after you opened it" in form_errors(response)
    assert "it is now at version 2" in form_errors(response)
    assert 'value="Mine"' in response.content.decode()  # what they typed is still there
    assert outbox() == before


def test_an_invariant_error_is_shown_on_the_form_and_nothing_is_written(client, customer):
    log_in(client, MANAGE_CATALOG)
    customer_deactivate(customer_id=customer)  # version 2, inactive
    before = outbox()
    data = {"name": "Ada Lovelace", "deactivate": "on", "expected_version": "2"}
    response = client.post(f"{CUSTOMERS}{customer}/change/", data)
    assert response.status_code == 200
    assert "Customer is already inactive" in form_errors(response)
    assert outbox() == before


def test_a_refused_registration_shows_the_service_error_beside_the_field(client, make_customer):
    log_in(client, MANAGE_CATALOG)
    email = f"{make_customer()}-taken@example.com"
    client.post(f"{CUSTOMERS}add/", {"name": "First", "email": email})
    before = outbox()
    response = client.post(f"{CUSTOMERS}add/", {"name": "Second", "email": email.upper()})  # the service lowercases
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == ["already registered"]
    assert outbox() == before


def test_a_change_without_the_version_seen_is_refused(client, customer):
    log_in(client, MANAGE_CATALOG)
    before = outbox()
    response = client.post(f"{CUSTOMERS}{customer}/change/", {"name": "No Version"})
    assert response.status_code == 200
    assert "did not say which version you saw" in form_errors(response)
    assert outbox() == before


def test_adding_repricing_and_retiring_a_product_go_through_the_services(client):
    staff = log_in(client, MANAGE_CATALOG)
    assert client.post(f"{PRODUCTS}add/", {"sku": "TEA-1", "name": "Green tea", "price": "450"}).status_code == 302
    product_id = client.get(PRODUCTS).context["cl"].result_list[0].pk
    page = f"{PRODUCTS}{product_id}/change/"
    assert client.post(page, {"price": "500", "expected_version": "1"}).status_code == 302
    assert client.post(page, {"price": "500", "retire": "on", "expected_version": "2"}).status_code == 302
    assert outbox() == [
        ("ProductAdded", actor(staff)),
        ("ProductRepriced", actor(staff)),
        ("ProductRetired", actor(staff)),
    ]


def test_a_stale_product_version_is_refused_and_nothing_is_written(client, sku):
    log_in(client, MANAGE_CATALOG)
    product_reprice(sku=sku, price=999)  # version 2
    product_id = client.get(PRODUCTS).context["cl"].result_list[0].pk
    before = outbox()
    response = client.post(f"{PRODUCTS}{product_id}/change/", {"price": "777", "expected_version": "1"})
    assert response.status_code == 200
    assert "you saw version 1, it is now at version 2" in form_errors(response)
    assert outbox() == before


def test_a_price_that_is_not_positive_never_reaches_the_service(client):
    log_in(client, MANAGE_CATALOG)
    response = client.post(f"{PRODUCTS}add/", {"sku": "TEA-2", "name": "Black tea", "price": "0"})
    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors
    assert outbox() == []


def test_deactivate_action_reports_each_customer(client, make_customer):
    staff = log_in(client, MANAGE_CATALOG)
    active, inactive = make_customer(), make_customer()
    customer_deactivate(customer_id=inactive)
    before = len(outbox())
    response = client.post(CUSTOMERS, {"action": "deactivate_customers", "_selected_action": [active, inactive]})
    assert response.status_code == 302
    notes = messages_of(response)
    assert f"Deactivated: Customer {active}." in notes
    assert any(note.startswith(f"Customer {inactive}: Customer is already inactive") for note in notes)
    assert outbox()[before:] == [("CustomerDeactivated", actor(staff))]


def test_retire_action_retires_each_selected_product(client, make_product):
    staff = log_in(client, MANAGE_CATALOG)
    first, second = make_product(), make_product()
    ids = [p.pk for p in client.get(PRODUCTS).context["cl"].result_list]
    response = client.post(PRODUCTS, {"action": "retire_products", "_selected_action": ids})
    assert response.status_code == 302
    assert f"Retired: {first}, {second}." in messages_of(response)
    assert outbox()[-2:] == [("ProductRetired", actor(staff))] * 2


def test_order_clerks_may_look_customers_and_products_up_but_change_neither(client, customer, sku):
    log_in(client, MANAGE_ORDERS)
    listing = client.get(CUSTOMERS)
    assert listing.status_code == 200
    assert listing.context["action_form"] is None  # no deactivate action offered
    assert client.get(f"{CUSTOMERS}add/").status_code == 403
    page = client.get(f"{CUSTOMERS}{customer}/change/")
    assert page.status_code == 200
    assert 'name="expected_version"' not in page.content.decode()
    assert client.post(f"{CUSTOMERS}{customer}/change/", {"name": "X", "expected_version": "1"}).status_code == 403
    response = client.post(CUSTOMERS, {"action": "deactivate_customers", "_selected_action": [customer]})
    assert response.status_code == 200  # the action is unknown to them: Django refuses it
    assert client.post(f"{PRODUCTS}add/", {"sku": "X-1", "name": "X", "price": "1"}).status_code == 403
    assert [event for event, _ in outbox()] == ["CustomerRegistered", "ProductAdded"]  # the fixtures' only


def test_staff_without_a_right_cannot_open_the_catalog(client, customer):
    log_in(client)
    assert client.get(CUSTOMERS).status_code == 403
    assert client.get(f"{PRODUCTS}add/").status_code == 403


def test_nothing_in_the_catalog_can_be_deleted(client, customer):
    log_in(client, superuser=True)
    assert client.get(f"{CUSTOMERS}{customer}/delete/").status_code == 403
    assert client.post(f"{CUSTOMERS}{customer}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in dict(client.get(CUSTOMERS).context["action_form"].fields["action"].choices)
