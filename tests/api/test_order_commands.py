"""The order commands of the REST API: status, body, headers, the event written, every error.

State is set up through the domain services; what a request wrote is read back from the
outbox (raw SQL or ``order_history``), so these tests need no projections.
"""

import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import get_token
from django.test import RequestFactory
from rest_framework.test import APIClient

from api.base import CommandRateThrottle
from config.rights import MANAGE_ORDERS
from orders_write.services import (
    LineInput,
    customer_deactivate,
    order_cancel,
    order_confirm,
    order_deliver,
    order_place,
    order_ship,
    product_retire,
)
from projections.history import order_history
from tests.api.conftest import make_user
from tests.api.responses import actor, assert_error, assert_field_errors, nothing_written, outbox_count, user_of

pytestmark = pytest.mark.django_db

ORDERS = "/api/orders/"
UNKNOWN_ORDER = 987_654_321


# --- helpers -------------------------------------------------------------------------------


def outbox_rows() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_type, actor FROM outbox_event ORDER BY position")
        return cursor.fetchall()


def assert_command_ok(response, *, order_id: int, version: int, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"order_id", "version", "position"}
    assert body["order_id"] == order_id
    assert body["version"] == version
    assert type(body["position"]) is int
    assert response["Location"] == f"http://testserver/api/orders/{order_id}/"
    assert response["ETag"] == f'"{version}"'
    return body


def assert_last_event(order_id: int, *, event_type: str, version: int, position: int, user) -> dict:
    event = order_history(order_id=order_id)[-1]
    assert (event["event_type"], event["version"], event["position"]) == (event_type, version, position)
    assert event["actor"] == actor(user)
    return event


def place_body(customer_id: int, *lines: tuple[str, int]) -> dict:
    return {"customer_id": customer_id, "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}


# --- fixtures ------------------------------------------------------------------------------


@dataclass
class Order:
    order_id: int
    version: int
    skus: list[str]  # on the order
    spare_sku: str  # an active product not on the order


@pytest.fixture
def make_order_at(customer, make_product):
    """Place a two-line order (2 x 1000 + 1 x 500) and move it to ``status`` through the services."""

    def make(status: str = "PENDING") -> Order:
        skus = [make_product(price=1000), make_product(price=500)]
        result = order_place(customer_id=customer, lines=[LineInput(skus[0], 2), LineInput(skus[1], 1)])
        steps = {
            "PENDING": [],
            "CONFIRMED": [order_confirm],
            "SHIPPED": [order_confirm, order_ship],
            "DELIVERED": [order_confirm, order_ship, order_deliver],
            "CANCELLED": [order_cancel],
        }[status]
        for step in steps:
            extra = {"tracking_number": "TRK-1"} if step is order_ship else {}
            extra |= {"reason": "test"} if step is order_cancel else {}
            result = step(order_id=result.order_id, **extra)
        return Order(result.order_id, result.version, skus, make_product(price=300))

    return make


@pytest.fixture
def order(make_order_at) -> Order:
    return make_order_at("PENDING")


# The commands on an existing order: the status they start from, their body and their event.
CHANGES = {
    "add_line": ("PENDING", "OrderLineAdded"),
    "remove_line": ("PENDING", "OrderLineRemoved"),
    "discount": ("PENDING", "OrderDiscountApplied"),
    "confirm": ("PENDING", "OrderConfirmed"),
    "ship": ("CONFIRMED", "OrderShipped"),
    "deliver": ("SHIPPED", "OrderDelivered"),
    "cancel": ("PENDING", "OrderCancelled"),
}


def send(client, command: str, order: Order, *, expected_version=None, order_id=None, **headers):
    """Send ``command`` for ``order`` (or ``order_id``) with a valid body."""
    url = f"{ORDERS}{order_id or order.order_id}/"
    if command == "remove_line":
        query = "" if expected_version is None else f"?expected_version={expected_version}"
        return client.delete(f"{url}lines/{order.skus[1]}/{query}", headers=headers)
    path, body = {
        "add_line": ("lines/", {"sku": order.spare_sku, "quantity": 3}),
        "discount": ("discount/", {"percent": 10}),
        "confirm": ("confirm/", {}),
        "ship": ("ship/", {"tracking_number": "TRK-42"}),
        "deliver": ("deliver/", {}),
        "cancel": ("cancel/", {"reason": "customer changed their mind"}),
    }[command]
    if expected_version is not None:
        body = {**body, "expected_version": expected_version}
    return client.post(url + path, body, format="json", headers=headers)


# --- place ---------------------------------------------------------------------------------


def test_place_answers_201_with_location_etag_and_records_one_event(clerk_client, customer, make_product):
    skus = [make_product(price=1000), make_product(price=250)]
    before = outbox_count()

    response = clerk_client.post(ORDERS, place_body(customer, (skus[0], 2), (skus[1], 1)), format="json")

    assert response.status_code == 201, response.content
    order_id = response.json()["order_id"]
    body = assert_command_ok(response, order_id=order_id, version=1, status=201)
    assert outbox_count() == before + 1
    event = assert_last_event(
        order_id, event_type="OrderPlaced", version=1, position=body["position"], user=user_of(clerk_client)
    )
    assert event["payload"]["total"] == 2250
    assert [(line["sku"], line["quantity"]) for line in event["payload"]["lines"]] == [(skus[0], 2), (skus[1], 1)]


def test_place_ignores_unknown_keys(clerk_client, customer, sku):
    body = {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1, "gift": True}], "coupon": "FREE"}

    response = clerk_client.post(ORDERS, body, format="json")

    assert response.status_code == 201, response.content


SKU = "TEA-1"
LINE = {"sku": SKU, "quantity": 1}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"customer_id", "lines"}, id="empty body"),
        pytest.param({"lines": [LINE]}, {"customer_id"}, id="no customer"),
        pytest.param({"customer_id": "x", "lines": [LINE]}, {"customer_id"}, id="customer not a number"),
        pytest.param({"customer_id": True, "lines": [LINE]}, {"customer_id"}, id="customer true"),
        pytest.param({"customer_id": 0, "lines": [LINE]}, {"customer_id"}, id="customer 0"),
        pytest.param({"customer_id": 10**30, "lines": [LINE]}, {"customer_id"}, id="customer beyond bigint"),
        pytest.param({"customer_id": 1}, {"lines"}, id="no lines"),
        pytest.param({"customer_id": 1, "lines": []}, {"lines"}, id="lines empty"),
        pytest.param({"customer_id": 1, "lines": "TEA-1"}, {"lines"}, id="lines not a list"),
        pytest.param(
            {"customer_id": 1, "lines": [{"sku": f"S-{n}", "quantity": 1} for n in range(101)]},
            {"lines"},
            id="101 lines",
        ),
        pytest.param({"customer_id": 1, "lines": [{"sku": SKU}]}, {"lines[0].quantity"}, id="no quantity"),
        pytest.param({"customer_id": 1, "lines": [{"quantity": 1}]}, {"lines[0].sku"}, id="no sku"),
        *(
            pytest.param({"customer_id": 1, "lines": [{"sku": SKU, "quantity": bad}]}, {"lines[0].quantity"}, id=name)
            for name, bad in [("qty 0", 0), ("qty 1000", 1000), ("qty x", "x"), ("qty 1.5", 1.5), ("qty true", True)]
        ),
        pytest.param(
            {"customer_id": 1, "lines": [LINE, {"sku": "B", "quantity": -1}]}, {"lines[1].quantity"}, id="2nd line"
        ),
        pytest.param({"customer_id": 1, "lines": [{"sku": "A\x00B", "quantity": 1}]}, {"lines[0].sku"}, id="NUL"),
        pytest.param({"customer_id": 1, "lines": [{"sku": "A" * 65, "quantity": 1}]}, {"lines[0].sku"}, id="long sku"),
        pytest.param({"customer_id": 1, "lines": [{"sku": "a b", "quantity": 1}]}, {"lines[0].sku"}, id="sku chars"),
        pytest.param({"customer_id": 1, "lines": [LINE, {"sku": SKU, "quantity": 2}]}, {"lines[1].sku"}, id="dup"),
        pytest.param({"customer_id": 1, "lines": ["TEA-1"]}, {"lines[0]"}, id="line not an object"),
        pytest.param(["customer_id", 1], {"non_field_errors"}, id="body not an object"),
    ],
)
def test_place_rejects_malformed_input(clerk_client, body, fields):
    with nothing_written():
        response = clerk_client.post(ORDERS, body, format="json")

    assert_field_errors(response, fields)


def test_place_rejects_malformed_json(clerk_client):
    with nothing_written():
        response = clerk_client.post(ORDERS, '{"customer_id": 1, "lines": [', content_type="application/json")

    assert_field_errors(response, {"body"})


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("customer_id=1", "application/x-www-form-urlencoded"), ("customer_id: 1", "text/plain")],
)
def test_place_rejects_a_body_that_is_not_json(clerk_client, data, content_type):
    with nothing_written():
        response = clerk_client.post(ORDERS, data, content_type=content_type)

    assert_error(response, 415, "unsupported_media_type", {})


def test_place_for_an_inactive_customer_is_an_invariant_violation(clerk_client, customer, sku):
    customer_deactivate(customer_id=customer)

    with nothing_written():
        response = clerk_client.post(ORDERS, place_body(customer, (sku, 1)), format="json")

    assert_error(response, 422, "invariant_violated", {"customer_id": ["inactive customer"]})


def test_place_for_an_unknown_customer_is_an_invariant_violation(clerk_client, sku):
    with nothing_written():
        response = clerk_client.post(ORDERS, place_body(UNKNOWN_ORDER, (sku, 1)), format="json")

    assert_error(response, 422, "invariant_violated", {"customer_id": ["unknown customer"]})


def test_place_with_retired_or_unknown_products_is_an_invariant_violation(clerk_client, customer, make_product):
    active, retired = make_product(), make_product()
    product_retire(sku=retired)

    with nothing_written():
        response = clerk_client.post(
            ORDERS, place_body(customer, (active, 1), (retired, 1), ("NO-SUCH-SKU", 1)), format="json"
        )

    assert_error(
        response,
        422,
        "invariant_violated",
        {"lines[1].sku": ["product is retired"], "lines[2].sku": ["unknown product"]},
    )


# --- idempotency ---------------------------------------------------------------------------


def test_place_retried_with_the_same_key_and_body_replays_the_first_answer(clerk_client, customer, sku):
    body = place_body(customer, (sku, 2))
    first = clerk_client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    count = outbox_count()

    retry = clerk_client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "k-1"})

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert (retry["Location"], retry["ETag"]) == (first["Location"], first["ETag"])
    assert outbox_count() == count


def test_place_with_a_reused_key_and_another_body_is_a_conflict(clerk_client, customer, make_product):
    first_sku, other_sku = make_product(), make_product()
    first = clerk_client.post(
        ORDERS, place_body(customer, (first_sku, 1)), format="json", headers={"Idempotency-Key": "k-2"}
    )

    with nothing_written():
        response = clerk_client.post(
            ORDERS, place_body(customer, (other_sku, 1)), format="json", headers={"Idempotency-Key": "k-2"}
        )

    assert_error(
        response, 409, "idempotency_key_reused", {"idempotency_key": "k-2", "order_id": first.json()["order_id"]}
    )


def test_two_users_may_use_the_same_key_independently(clerk_client, customer, sku):
    other_clerk = APIClient()
    other_clerk.force_authenticate(make_user(MANAGE_ORDERS))
    body = place_body(customer, (sku, 1))

    mine = clerk_client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "shared"})
    theirs = other_clerk.post(ORDERS, body, format="json", headers={"Idempotency-Key": "shared"})

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["order_id"] != theirs.json()["order_id"]


@pytest.mark.parametrize("key", ["   ", "k" * 256], ids=["blank", "256 characters"])
def test_place_rejects_a_malformed_idempotency_key(clerk_client, customer, sku, key):
    with nothing_written():
        response = clerk_client.post(
            ORDERS, place_body(customer, (sku, 1)), format="json", headers={"Idempotency-Key": key}
        )

    assert_field_errors(response, {"idempotency_key"})


# --- correlation ---------------------------------------------------------------------------


def test_a_valid_correlation_id_is_stored_on_the_event(clerk_client, customer, sku):
    correlation_id = str(uuid.uuid4())

    response = clerk_client.post(
        ORDERS, place_body(customer, (sku, 1)), format="json", headers={"X-Correlation-ID": correlation_id}
    )

    assert response.status_code == 201, response.content
    assert order_history(order_id=response.json()["order_id"])[0]["correlation_id"] == correlation_id


def test_a_malformed_correlation_id_is_replaced_by_a_fresh_one(clerk_client, customer, sku):
    response = clerk_client.post(
        ORDERS, place_body(customer, (sku, 1)), format="json", headers={"X-Correlation-ID": "not-a-uuid"}
    )

    assert response.status_code == 201, response.content
    stored = order_history(order_id=response.json()["order_id"])[0]["correlation_id"]
    assert str(uuid.UUID(stored)) == stored


def test_the_correlation_id_of_a_change_is_stored_too(clerk_client, order):
    correlation_id = str(uuid.uuid4())

    response = send(clerk_client, "confirm", order, **{"X-Correlation-ID": correlation_id})

    assert response.status_code == 200, response.content
    assert order_history(order_id=order.order_id)[-1]["correlation_id"] == correlation_id


# --- every change of an existing order -----------------------------------------------------


@pytest.mark.parametrize("command", CHANGES)
def test_change_answers_200_with_location_etag_and_records_one_event(clerk_client, make_order_at, command):
    start, event_type = CHANGES[command]
    order = make_order_at(start)
    before = outbox_count()

    response = send(clerk_client, command, order)

    body = assert_command_ok(response, order_id=order.order_id, version=order.version + 1)
    assert outbox_count() == before + 1
    assert_last_event(
        order.order_id,
        event_type=event_type,
        version=order.version + 1,
        position=body["position"],
        user=user_of(clerk_client),
    )


@pytest.mark.parametrize("command", CHANGES)
@pytest.mark.parametrize("how", ["expected_version", "If-Match", "both", "If-Match *"])
def test_change_at_the_current_version_succeeds(clerk_client, make_order_at, command, how):
    order = make_order_at(CHANGES[command][0])
    expected = order.version if how in ("expected_version", "both") else None
    headers = {"If-Match": f'"{order.version}"'} if how in ("If-Match", "both") else {}
    headers = {"If-Match": "*"} if how == "If-Match *" else headers

    response = send(clerk_client, command, order, expected_version=expected, **headers)

    assert_command_ok(response, order_id=order.order_id, version=order.version + 1)


@pytest.mark.parametrize("command", CHANGES)
def test_change_at_a_stale_expected_version_is_a_version_conflict(clerk_client, make_order_at, command):
    order = make_order_at(CHANGES[command][0])
    stale = order.version + 5

    with nothing_written():
        response = send(clerk_client, command, order, expected_version=stale)

    assert_error(response, 409, "version_conflict", {"expected_version": stale, "current_version": order.version})


@pytest.mark.parametrize("command", CHANGES)
def test_change_with_a_stale_if_match_fails_its_precondition(clerk_client, make_order_at, command):
    order = make_order_at(CHANGES[command][0])
    stale = order.version + 5

    with nothing_written():
        response = send(clerk_client, command, order, **{"If-Match": f'"{stale}"'})

    assert_error(response, 412, "precondition_failed", {"expected_version": stale, "current_version": order.version})


@pytest.mark.parametrize("command", CHANGES)
def test_change_with_if_match_disagreeing_with_expected_version_is_refused(clerk_client, make_order_at, command):
    order = make_order_at(CHANGES[command][0])

    with nothing_written():
        response = send(
            clerk_client, command, order, expected_version=order.version + 1, **{"If-Match": f'"{order.version}"'}
        )

    assert_field_errors(response, {"If-Match"})


@pytest.mark.parametrize("if_match", ['W/"1"', "abc", "1", '"0"', '"-1"', '"1", "2"', '"99999999999"', ""])
def test_a_malformed_if_match_is_a_validation_error(clerk_client, order, if_match):
    with nothing_written():
        response = send(clerk_client, "confirm", order, **{"If-Match": if_match})

    assert_field_errors(response, {"If-Match"})


@pytest.mark.parametrize("command", CHANGES)
def test_change_of_an_unknown_order_is_not_found(clerk_client, order, command):
    with nothing_written():
        response = send(clerk_client, command, order, order_id=UNKNOWN_ORDER)

    assert_error(response, 404, "not_found", {"order_id": UNKNOWN_ORDER})


def test_an_order_id_beyond_bigint_is_a_validation_error(clerk_client, order):
    with nothing_written():
        response = send(clerk_client, "confirm", order, order_id=10**30)

    assert_field_errors(response, {"order_id"})


LEGAL_FROM = {
    "add_line": ["PENDING"],
    "remove_line": ["PENDING"],
    "apply_discount": ["PENDING"],
    "confirm": ["PENDING"],
    "ship": ["CONFIRMED"],
    "deliver": ["SHIPPED"],
    "cancel": ["CONFIRMED", "PENDING"],
}


@pytest.mark.parametrize(
    ("command", "action", "status"),
    [
        ("add_line", "add_line", "CONFIRMED"),
        ("remove_line", "remove_line", "CONFIRMED"),
        ("discount", "apply_discount", "SHIPPED"),
        ("confirm", "confirm", "CONFIRMED"),
        ("confirm", "confirm", "CANCELLED"),
        ("ship", "ship", "PENDING"),
        ("ship", "ship", "DELIVERED"),
        ("deliver", "deliver", "PENDING"),
        ("deliver", "deliver", "CONFIRMED"),
        ("cancel", "cancel", "SHIPPED"),
        ("cancel", "cancel", "CANCELLED"),
    ],
)
def test_change_from_the_wrong_status_is_an_invalid_transition(clerk_client, make_order_at, command, action, status):
    order = make_order_at(status)

    with nothing_written():
        response = send(clerk_client, command, order)

    assert_error(
        response,
        409,
        "invalid_transition",
        {"status": status, "action": action, "allowed_from": LEGAL_FROM[action]},
    )


# --- add a line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"sku", "quantity"}, id="empty"),
        *(
            pytest.param({"sku": "S-1", "quantity": bad}, {"quantity"}, id=name)
            for name, bad in [("0", 0), ("1000", 1000), ("x", "x"), ("1.5", 1.5), ("true", True), ("null", None)]
        ),
        pytest.param({"sku": "S\x00", "quantity": 1}, {"sku"}, id="NUL sku"),
        pytest.param({"sku": "S" * 65, "quantity": 1}, {"sku"}, id="long sku"),
        pytest.param({"sku": "", "quantity": 1}, {"sku"}, id="blank sku"),
        pytest.param({"sku": "S/1", "quantity": 1}, {"sku"}, id="sku chars"),
        pytest.param({"sku": "S-1", "quantity": 1, "expected_version": 0}, {"expected_version"}, id="version 0"),
        pytest.param({"sku": "S-1", "quantity": 1, "expected_version": "x"}, {"expected_version"}, id="version x"),
    ],
)
def test_add_line_rejects_malformed_input(clerk_client, order, body, fields):
    with nothing_written():
        response = clerk_client.post(f"{ORDERS}{order.order_id}/lines/", body, format="json")

    assert_field_errors(response, fields)


def test_add_line_of_a_retired_product_is_an_invariant_violation(clerk_client, order):
    product_retire(sku=order.spare_sku)

    with nothing_written():
        response = clerk_client.post(
            f"{ORDERS}{order.order_id}/lines/", {"sku": order.spare_sku, "quantity": 1}, format="json"
        )

    assert_error(response, 422, "invariant_violated", {"sku": ["product is retired"]})


@pytest.mark.parametrize(
    ("sku", "problem"), [("NO-SUCH-SKU", "unknown product"), (None, "already on the order")], ids=["unknown", "dup"]
)
def test_add_line_of_an_unknown_or_present_product_is_an_invariant_violation(clerk_client, order, sku, problem):
    with nothing_written():
        response = clerk_client.post(
            f"{ORDERS}{order.order_id}/lines/", {"sku": sku or order.skus[0], "quantity": 1}, format="json"
        )

    assert_error(response, 422, "invariant_violated", {"sku": [problem]})


# --- remove a line -------------------------------------------------------------------------


def test_remove_a_line_not_on_the_order_is_not_found(clerk_client, order):
    with nothing_written():
        response = clerk_client.delete(f"{ORDERS}{order.order_id}/lines/{order.spare_sku}/")

    assert_error(response, 404, "not_found", {"sku": order.spare_sku})


def test_remove_the_last_line_is_an_invariant_violation(clerk_client, order):
    first = clerk_client.delete(f"{ORDERS}{order.order_id}/lines/{order.skus[0]}/")
    assert first.status_code == 200, first.content

    with nothing_written():
        response = clerk_client.delete(f"{ORDERS}{order.order_id}/lines/{order.skus[1]}/")

    assert_error(response, 422, "invariant_violated", {"sku": ["last line"]})


@pytest.mark.parametrize(
    ("path", "fields"),
    [("lines/{sku}/?expected_version=abc", {"expected_version"}), ("lines/bad%20sku/", {"sku"})],
    ids=["version not a number", "sku chars"],
)
def test_remove_a_line_rejects_malformed_input(clerk_client, order, path, fields):
    with nothing_written():
        response = clerk_client.delete(f"{ORDERS}{order.order_id}/" + path.format(sku=order.skus[0]))

    assert_field_errors(response, fields)


# --- discount ------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "total"), [({"percent": 10}, 2250), ({"amount": 700}, 1800), ({"percent": 0}, 2500)])
def test_discount_sets_the_total(clerk_client, order, body, total):
    response = clerk_client.post(f"{ORDERS}{order.order_id}/discount/", body, format="json")

    assert_command_ok(response, order_id=order.order_id, version=2)
    assert order_history(order_id=order.order_id)[-1]["payload"]["total"] == total


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"percent"}, id="neither"),
        pytest.param({"percent": 10, "amount": 100}, {"percent"}, id="both"),
        pytest.param({"percent": 101}, {"percent"}, id="percent 101"),
        pytest.param({"percent": -1}, {"percent"}, id="percent -1"),
        pytest.param({"percent": 12.5}, {"percent"}, id="percent 12.5"),
        pytest.param({"percent": True}, {"percent"}, id="percent true"),
        pytest.param({"amount": "x"}, {"amount"}, id="amount x"),
        pytest.param({"amount": -1}, {"amount"}, id="amount -1"),
        pytest.param({"amount": 10**13}, {"amount"}, id="amount beyond any order"),
        pytest.param({"amount": 10**20}, {"amount"}, id="amount huge"),
    ],
)
def test_discount_rejects_malformed_input(clerk_client, order, body, fields):
    with nothing_written():
        response = clerk_client.post(f"{ORDERS}{order.order_id}/discount/", body, format="json")

    assert_field_errors(response, fields)


def test_discount_above_the_subtotal_is_an_invariant_violation(clerk_client, order):
    with nothing_written():
        response = clerk_client.post(f"{ORDERS}{order.order_id}/discount/", {"amount": 2501}, format="json")

    assert_error(response, 422, "invariant_violated", {"amount": ["at most 2500"]})


# --- ship and cancel texts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "status", "body", "fields"),
    [
        ("ship", "CONFIRMED", {}, {"tracking_number"}),
        ("ship", "CONFIRMED", {"tracking_number": "   "}, {"tracking_number"}),
        ("ship", "CONFIRMED", {"tracking_number": "T\x00"}, {"tracking_number"}),
        ("ship", "CONFIRMED", {"tracking_number": "T" * 65}, {"tracking_number"}),
        ("ship", "CONFIRMED", {"tracking_number": ["T"]}, {"tracking_number"}),
        ("cancel", "PENDING", {}, {"reason"}),
        ("cancel", "PENDING", {"reason": "why\x00"}, {"reason"}),
        ("cancel", "PENDING", {"reason": "r" * 501}, {"reason"}),
        ("cancel", "PENDING", {"reason": "line\nbreak"}, {"reason"}),
    ],
)
def test_ship_and_cancel_reject_malformed_text(clerk_client, make_order_at, command, status, body, fields):
    order = make_order_at(status)

    with nothing_written():
        response = clerk_client.post(f"{ORDERS}{order.order_id}/{command}/", body, format="json")

    assert_field_errors(response, fields)


# --- authentication and rights -------------------------------------------------------------


ALL_COMMANDS = ["place", *CHANGES]


def send_any(client, command: str, order: Order):
    if command == "place":
        return client.post(ORDERS, place_body(1, (order.spare_sku, 1)), format="json")
    return send(client, command, order)


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_anonymous_commands_are_refused_with_a_token_challenge(anonymous_client, order, command):
    with nothing_written():
        response = send_any(anonymous_client, command, order)

    assert_error(response, 401, "not_authenticated", {})
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_a_bad_token_is_refused(order, command):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    with nothing_written():
        response = send_any(client, command, order)

    assert_error(response, 401, "authentication_failed", {})
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("client_fixture", ["catalog_client", "manager_client"])
@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_users_without_the_order_right_are_forbidden(request, order, client_fixture, command):
    client = request.getfixturevalue(client_fixture)

    with nothing_written():
        response = send_any(client, command, order)

    assert_error(response, 403, "permission_denied", {})


def test_a_superuser_may_place_orders(admin_client_api, customer, sku):
    response = admin_client_api.post(ORDERS, place_body(customer, (sku, 1)), format="json")

    assert response.status_code == 201, response.content
    assert outbox_rows()[-1] == ("OrderPlaced", actor(user_of(admin_client_api)))


@pytest.fixture
def session_client():
    user = make_user(MANAGE_ORDERS)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client, user


def test_a_session_without_a_csrf_token_is_forbidden(session_client, customer, sku):
    client, _ = session_client

    with nothing_written():
        response = client.post(ORDERS, place_body(customer, (sku, 1)), format="json")

    assert_error(response, 403, "permission_denied", {})


def test_a_session_with_a_csrf_token_may_place_orders(session_client, customer, sku):
    client, user = session_client
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]

    response = client.post(ORDERS, place_body(customer, (sku, 1)), format="json", headers={"X-CSRFToken": token})

    assert response.status_code == 201, response.content
    assert outbox_rows()[-1] == ("OrderPlaced", actor(user))


# --- throttling ----------------------------------------------------------------------------


@pytest.fixture
def three_commands_a_minute(monkeypatch):
    cache.clear()
    monkeypatch.setattr(CommandRateThrottle, "THROTTLE_RATES", {"commands": "3/min"})
    yield
    cache.clear()


def test_the_fourth_command_in_a_minute_is_throttled(three_commands_a_minute, clerk_client, customer, sku):
    body = place_body(customer, (sku, 1))
    assert [clerk_client.post(ORDERS, body, format="json").status_code for _ in range(3)] == [201] * 3

    with nothing_written():
        response = clerk_client.post(ORDERS, body, format="json")

    assert_error(response, 429, "throttled", {})
    assert int(response["Retry-After"]) > 0


def test_the_throttle_counts_commands_on_every_endpoint(three_commands_a_minute, clerk_client, order):
    for command in ("discount", "confirm", "cancel"):
        assert send(clerk_client, command, order).status_code == 200

    with nothing_written():
        response = clerk_client.post(ORDERS, place_body(1, (order.spare_sku, 1)), format="json")

    assert_error(response, 429, "throttled", {})


def test_the_throttle_is_per_user(three_commands_a_minute, clerk_client, customer, sku):
    other_clerk = APIClient()
    other_clerk.force_authenticate(make_user(MANAGE_ORDERS))
    body = place_body(customer, (sku, 1))
    for _ in range(4):
        clerk_client.post(ORDERS, body, format="json")

    response = other_clerk.post(ORDERS, body, format="json")

    assert response.status_code == 201, response.content


def test_a_throttle_rate_of_none_lets_every_command_through_without_the_cache(monkeypatch, clerk_client, order):
    """``COMMAND_THROTTLE_RATE=off`` maps to a rate of None, which DRF skips before any cache access."""
    monkeypatch.setattr(CommandRateThrottle, "THROTTLE_RATES", {"commands": None})
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: pytest.fail("the throttle read the cache"))
    monkeypatch.setattr(cache, "set", lambda *args, **kwargs: pytest.fail("the throttle wrote the cache"))
    monkeypatch.setattr("projections.tasks.nudge", lambda: None, raising=False)
    for command in ("discount", "confirm", "cancel"):
        assert send(clerk_client, command, order).status_code == 200


def test_queries_are_not_throttled_and_use_no_command_budget(three_commands_a_minute, clerk_client, customer, sku):
    assert [clerk_client.get(ORDERS).status_code for _ in range(5)] == [200] * 5
    body = place_body(customer, (sku, 1))
    assert [clerk_client.post(ORDERS, body, format="json").status_code for _ in range(4)] == [201, 201, 201, 429]

    assert clerk_client.get(ORDERS).status_code == 200
