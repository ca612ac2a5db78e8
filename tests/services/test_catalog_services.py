"""Customer and product services: state, the event each records, and the rules they keep."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from config.limits import MAX_PRICE
from events import decode
from orders_write import clock
from orders_write.models import Customer, Order, Product
from orders_write.services import (
    LineInput,
    customer_deactivate,
    customer_register,
    customer_rename,
    order_confirm,
    order_line_add,
    order_place,
    product_add,
    product_reprice,
    product_retire,
)
from tests.services.helpers import assert_rejected, events_of, last_event, outbox_count

pytestmark = pytest.mark.django_db

MOMENT = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="x")


def assert_event(result, *, aggregate_type, event_type, payload, version, actor):
    """The command's one new event: the last in the outbox, at the position the result reports."""
    event = last_event()
    assert event.position == result.position
    assert (event.aggregate_type, event.aggregate_id, event.aggregate_version) == (
        aggregate_type,
        result.aggregate_id,
        version,
    )
    assert event.event_type == event_type
    assert event.schema_version == 1
    assert event.payload == payload
    assert event.actor == actor
    assert event.causation_id is not None
    decoded = decode(event.event_type, event.schema_version, event.payload)
    assert type(decoded).event_type == event_type
    return event


# --- customer_register -------------------------------------------------------------------------


def test_customer_register_stores_the_customer_and_records_customer_registered(alice):
    before = outbox_count()
    with clock.frozen_at(MOMENT):
        result = customer_register(name="  Ada Lovelace ", email=" Ada@Example.COM ", actor=alice)

    customer = Customer.objects.get(pk=result.aggregate_id)
    assert (customer.name, customer.email, customer.is_active, customer.version) == (
        "Ada Lovelace",
        "ada@example.com",
        True,
        1,
    )
    assert customer.created_at == customer.updated_at == MOMENT
    assert result.version == 1
    assert outbox_count() == before + 1
    event = assert_event(
        result,
        aggregate_type="customer",
        event_type="CustomerRegistered",
        payload={"customer_id": customer.pk, "name": "Ada Lovelace", "email": "ada@example.com"},
        version=1,
        actor=f"user:{alice.pk}:alice",
    )
    assert event.occurred_at == MOMENT


@pytest.mark.parametrize(
    ("actor_kind", "expected"),
    [("none", "system"), ("anonymous", "system"), ("user", "user:{pk}:alice")],
    ids=["no-actor", "anonymous-user", "authenticated-user"],
)
def test_events_name_their_actor(alice, actor_kind, expected):
    actor = {"none": None, "anonymous": AnonymousUser(), "user": alice}[actor_kind]
    customer_register(name="Grace Hopper", email="grace@example.com", actor=actor)
    assert last_event().actor == expected.format(pk=alice.pk)


def test_customer_register_accepts_names_and_emails_at_their_limits():
    local = "a" * 64
    email = f"{local}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com"
    assert len(email) == 254
    result = customer_register(name="N" * 200, email=email)
    customer = Customer.objects.get(pk=result.aggregate_id)
    assert (len(customer.name), customer.email) == (200, email)


@pytest.mark.parametrize(
    "email",
    ["taken@example.com", "TAKEN@example.com", "  taken@example.com  "],
    ids=["same", "other-case", "padded"],
)
def test_customer_register_refuses_an_email_already_registered(email):
    customer_register(name="First", email="taken@example.com")
    assert_rejected(lambda: customer_register(name="Second", email=email), "validation_error", detail="email")


# --- customer_rename ---------------------------------------------------------------------------


def test_customer_rename_changes_the_name_and_records_customer_renamed(alice, customer):
    result = customer_rename(customer_id=customer, name=" Ada King ", expected_version=1, actor=alice)

    renamed = Customer.objects.get(pk=customer)
    assert (renamed.name, renamed.version, result.version) == ("Ada King", 2, 2)
    assert_event(
        result,
        aggregate_type="customer",
        event_type="CustomerRenamed",
        payload={"customer_id": customer, "name": "Ada King", "previous_name": "Ada Lovelace"},
        version=2,
        actor=f"user:{alice.pk}:alice",
    )


def test_customer_rename_with_a_stale_version_is_a_conflict(customer):
    customer_rename(customer_id=customer, name="Second Name")
    error = assert_rejected(
        lambda: customer_rename(customer_id=customer, name="Third Name", expected_version=1), "version_conflict"
    )
    assert error.details == {"expected_version": 1, "current_version": 2}
    assert error.current_version == 2
    assert Customer.objects.get(pk=customer).name == "Second Name"


def test_customer_rename_of_an_unknown_customer_is_not_found(customer):
    assert_rejected(lambda: customer_rename(customer_id=customer + 1000, name="X"), "not_found", detail="customer_id")


# --- customer_deactivate -----------------------------------------------------------------------


def test_customer_deactivate_marks_inactive_and_records_customer_deactivated(alice, customer):
    result = customer_deactivate(customer_id=customer, expected_version=1, actor=alice)

    deactivated = Customer.objects.get(pk=customer)
    assert (deactivated.is_active, deactivated.version, result.version) == (False, 2, 2)
    assert_event(
        result,
        aggregate_type="customer",
        event_type="CustomerDeactivated",
        payload={"customer_id": customer},
        version=2,
        actor=f"user:{alice.pk}:alice",
    )


def test_customer_deactivate_twice_violates_an_invariant(customer):
    customer_deactivate(customer_id=customer)
    assert_rejected(lambda: customer_deactivate(customer_id=customer), "invariant_violated", detail="customer_id")


def test_a_deactivated_customer_cannot_place_orders_but_keeps_existing_ones(customer, sku):
    placed = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    customer_deactivate(customer_id=customer)

    assert_rejected(
        lambda: order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]),
        "invariant_violated",
        detail="customer_id",
    )
    assert order_confirm(order_id=placed.order_id).version == 2


def test_customer_deactivate_with_a_stale_version_is_a_conflict(customer):
    customer_rename(customer_id=customer, name="Renamed")
    error = assert_rejected(lambda: customer_deactivate(customer_id=customer, expected_version=1), "version_conflict")
    assert error.current_version == 2
    assert error.details["current_version"] == 2


def test_customer_versions_run_one_to_n_in_the_outbox(customer):
    customer_rename(customer_id=customer, name="B")
    customer_rename(customer_id=customer, name="C")
    customer_deactivate(customer_id=customer)
    history = events_of("customer", customer)
    assert [(e.aggregate_version, e.event_type) for e in history] == [
        (1, "CustomerRegistered"),
        (2, "CustomerRenamed"),
        (3, "CustomerRenamed"),
        (4, "CustomerDeactivated"),
    ]
    assert Customer.objects.get(pk=customer).version == 4


# --- product_add -------------------------------------------------------------------------------


def test_product_add_stores_the_product_and_records_product_added(alice):
    before = outbox_count()
    with clock.frozen_at(MOMENT):
        result = product_add(sku=" WID-1 ", name=" Blue widget ", price=1999, actor=alice)

    product = Product.objects.get(pk=result.aggregate_id)
    assert (product.sku, product.name, product.price, product.is_active, product.version) == (
        "WID-1",
        "Blue widget",
        1999,
        True,
        1,
    )
    assert product.created_at == product.updated_at == MOMENT
    assert outbox_count() == before + 1
    assert_event(
        result,
        aggregate_type="product",
        event_type="ProductAdded",
        payload={"product_id": product.pk, "sku": "WID-1", "name": "Blue widget", "price": 1999, "currency": "EUR"},
        version=1,
        actor=f"user:{alice.pk}:alice",
    )


@pytest.mark.parametrize("price", [1, MAX_PRICE], ids=["one-minor-unit", "max-price"])
def test_product_add_accepts_prices_at_the_bounds(price):
    result = product_add(sku="BOUND", name="Bound", price=price)
    assert Product.objects.get(pk=result.aggregate_id).price == price


@pytest.mark.parametrize("sku", ["a", "A.b_c-9", "9" * 64], ids=["one-char", "punctuation", "64-chars"])
def test_product_add_accepts_well_formed_skus(sku):
    product_add(sku=sku, name="Thing", price=100)
    assert Product.objects.filter(sku=sku).exists()


@pytest.mark.parametrize("sku", ["DUP-1", " DUP-1 "], ids=["same", "padded"])
def test_product_add_refuses_a_duplicate_sku(sku):
    product_add(sku="DUP-1", name="First", price=100)
    assert_rejected(lambda: product_add(sku=sku, name="Second", price=200), "validation_error", detail="sku")
    assert Product.objects.get(sku="DUP-1").price == 100


# --- product_reprice ---------------------------------------------------------------------------


def test_product_reprice_changes_the_price_and_records_product_repriced(alice, make_product):
    sku = make_product(price=1000)
    result = product_reprice(sku=sku, price=1234, expected_version=1, actor=alice)

    product = Product.objects.get(sku=sku)
    assert (product.price, product.version, result.version) == (1234, 2, 2)
    assert_event(
        result,
        aggregate_type="product",
        event_type="ProductRepriced",
        payload={"product_id": product.pk, "sku": sku, "price": 1234, "previous_price": 1000},
        version=2,
        actor=f"user:{alice.pk}:alice",
    )


def test_product_reprice_with_a_stale_version_is_a_conflict(sku):
    product_reprice(sku=sku, price=2000)
    error = assert_rejected(lambda: product_reprice(sku=sku, price=3000, expected_version=1), "version_conflict")
    assert (error.current_version, error.details["current_version"]) == (2, 2)
    assert Product.objects.get(sku=sku).price == 2000


def test_product_reprice_of_an_unknown_sku_is_not_found():
    assert_rejected(lambda: product_reprice(sku="NOPE", price=100), "not_found", detail="sku")


def test_product_reprice_leaves_placed_lines_alone_and_prices_new_lines(customer, make_product):
    old, new = make_product(price=1000), make_product(price=500)
    placed = order_place(customer_id=customer, lines=[LineInput(sku=old, quantity=2)])
    product_reprice(sku=old, price=9999)
    product_reprice(sku=new, price=700)
    order_line_add(order_id=placed.order_id, sku=new, quantity=3)

    order = Order.objects.get(pk=placed.order_id)
    lines = {line.sku: (line.unit_price, line.line_total) for line in order.lines.all()}
    assert lines == {old: (1000, 2000), new: (700, 2100)}
    assert (order.subtotal, order.total) == (4100, 4100)


# --- product_retire ----------------------------------------------------------------------------


def test_product_retire_takes_the_product_off_sale_and_records_product_retired(alice, sku):
    result = product_retire(sku=sku, expected_version=1, actor=alice)

    product = Product.objects.get(sku=sku)
    assert (product.is_active, product.version, result.version) == (False, 2, 2)
    assert_event(
        result,
        aggregate_type="product",
        event_type="ProductRetired",
        payload={"product_id": product.pk, "sku": sku},
        version=2,
        actor=f"user:{alice.pk}:alice",
    )


def test_product_retire_twice_violates_an_invariant(sku):
    product_retire(sku=sku)
    assert_rejected(lambda: product_retire(sku=sku), "invariant_violated", detail="sku")


def test_product_retire_with_a_stale_version_is_a_conflict(sku):
    product_reprice(sku=sku, price=5)
    error = assert_rejected(lambda: product_retire(sku=sku, expected_version=1), "version_conflict")
    assert error.current_version == 2
    assert Product.objects.get(sku=sku).is_active


def test_product_retire_of_an_unknown_sku_is_not_found():
    assert_rejected(lambda: product_retire(sku="NOPE"), "not_found", detail="sku")


def test_a_retired_product_stays_on_existing_orders_but_cannot_be_ordered_again(customer, make_product):
    kept, retired = make_product(price=100), make_product(price=200)
    placed = order_place(
        customer_id=customer, lines=[LineInput(sku=kept, quantity=1), LineInput(sku=retired, quantity=1)]
    )
    product_retire(sku=retired)

    assert_rejected(
        lambda: order_place(customer_id=customer, lines=[LineInput(sku=retired, quantity=1)]),
        "invariant_violated",
        detail="lines[0].sku",
    )
    assert_rejected(
        lambda: order_line_add(order_id=placed.order_id, sku=retired, quantity=1), "invariant_violated", detail="sku"
    )
    assert order_confirm(order_id=placed.order_id).version == 2


def test_product_versions_run_one_to_n_in_the_outbox(sku):
    product_reprice(sku=sku, price=1)
    product_retire(sku=sku)
    product_id = Product.objects.get(sku=sku).pk
    assert [(e.aggregate_version, e.event_type) for e in events_of("product", product_id)] == [
        (1, "ProductAdded"),
        (2, "ProductRepriced"),
        (3, "ProductRetired"),
    ]
