"""The customer and product commands of the REST API: status, body, headers, event, every error.

State is set up through the domain services; what a request wrote is read back from the
outbox with raw SQL, so these tests need no projections.
"""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders_write.services import customer_deactivate, customer_register, product_add, product_retire
from tests.api.responses import actor, assert_error, assert_field_errors, nothing_written, outbox_count, user_of

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/customers/"
PRODUCTS = "/api/products/"
UNKNOWN_CUSTOMER = 987_654_321
MISSING = object()  # a key left out of the body


def body_with(good: dict, change: dict) -> dict:
    return {key: value for key, value in {**good, **change}.items() if value is not MISSING}


# --- helpers -------------------------------------------------------------------------------


def last_event() -> tuple:
    """``(position, event_type, aggregate_id, aggregate_version, actor)`` of the newest event."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT position, event_type, aggregate_id, aggregate_version, actor"
            " FROM outbox_event ORDER BY position DESC LIMIT 1"
        )
        return cursor.fetchone()


def actor_of(client: APIClient) -> str:
    return actor(user_of(client))


def assert_customer_ok(response, *, customer_id: int, version: int, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"customer_id", "version", "position"}
    assert (body["customer_id"], body["version"]) == (customer_id, version)
    assert type(body["position"]) is int
    assert response["Location"] == f"http://testserver/api/customers/{customer_id}/"
    assert response["ETag"] == f'"{version}"'
    return body


def assert_product_ok(response, *, sku: str, product_id: int, version: int, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"sku", "product_id", "version", "position"}
    assert (body["sku"], body["product_id"], body["version"]) == (sku, product_id, version)
    assert type(body["position"]) is int
    assert response["ETag"] == f'"{version}"'
    return body


@pytest.fixture
def product() -> tuple[str, int]:
    """An active product: ``(sku, product_id)``."""
    return "TEA-1", product_add(sku="TEA-1", name="Green tea", price=450).aggregate_id


# --- register a customer -------------------------------------------------------------------


def test_register_answers_201_with_location_etag_and_records_one_event(catalog_client):
    before = outbox_count()

    response = catalog_client.post(
        CUSTOMERS, {"name": "Grace Hopper", "email": "grace@example.com", "nickname": "amazing"}, format="json"
    )

    assert response.status_code == 201, response.content
    customer_id = response.json()["customer_id"]
    body = assert_customer_ok(response, customer_id=customer_id, version=1, status=201)
    assert outbox_count() == before + 1
    assert last_event() == (body["position"], "CustomerRegistered", customer_id, 1, actor_of(catalog_client))


GOOD_CUSTOMER = {"name": "Grace Hopper", "email": "grace@example.com"}


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        pytest.param({"name": MISSING, "email": MISSING}, {"name", "email"}, id="nothing"),
        pytest.param({"name": MISSING}, {"name"}, id="no name"),
        pytest.param({"name": None}, {"name"}, id="null name"),
        pytest.param({"name": "   "}, {"name"}, id="blank name"),
        pytest.param({"name": "Gr\x00ace"}, {"name"}, id="NUL in name"),
        pytest.param({"name": "Gr\nace"}, {"name"}, id="newline in name"),
        pytest.param({"name": "G" * 201}, {"name"}, id="name too long"),
        pytest.param({"name": True}, {"name"}, id="name true"),
        pytest.param({"name": ["Grace"]}, {"name"}, id="name a list"),
        pytest.param({"email": "not-an-email"}, {"email"}, id="invalid email"),
        pytest.param({"email": "g" * 243 + "@example.com"}, {"email"}, id="email too long"),
        pytest.param({"email": "grace\x00@example.com"}, {"email"}, id="NUL in email"),
    ],
)
def test_register_rejects_malformed_input(catalog_client, change, fields):
    body = body_with(GOOD_CUSTOMER, change)

    with nothing_written():
        response = catalog_client.post(CUSTOMERS, body, format="json")

    assert_field_errors(response, fields)


def test_register_refuses_an_email_already_registered(catalog_client):
    customer_register(name="Ada", email="ada@example.com")

    with nothing_written():
        response = catalog_client.post(CUSTOMERS, {"name": "Ada 2", "email": "ADA@example.com"}, format="json")

    assert_error(response, 400, "validation_error", {"email": ["already registered"]})


@pytest.mark.parametrize("url", [CUSTOMERS, PRODUCTS])
def test_malformed_json_is_a_validation_error(catalog_client, url):
    with nothing_written():
        response = catalog_client.post(url, '{"name": "Ada", ', content_type="application/json")

    assert_field_errors(response, {"body"})


@pytest.mark.parametrize("url", [CUSTOMERS, PRODUCTS])
def test_a_body_that_is_not_json_is_an_unsupported_media_type(catalog_client, url):
    with nothing_written():
        response = catalog_client.post(
            url, "name=Ada&email=ada@example.com", content_type="application/x-www-form-urlencoded"
        )

    assert_error(response, 415, "unsupported_media_type", {})


# --- add a product -------------------------------------------------------------------------


def test_add_product_answers_201_with_etag_and_records_one_event(catalog_client):
    before = outbox_count()

    response = catalog_client.post(
        PRODUCTS, {"sku": "  COF-7 ", "name": "Coffee", "price": 1299, "colour": "brown"}, format="json"
    )

    assert response.status_code == 201, response.content
    product_id = response.json()["product_id"]
    body = assert_product_ok(response, sku="COF-7", product_id=product_id, version=1, status=201)
    assert outbox_count() == before + 1
    assert last_event() == (body["position"], "ProductAdded", product_id, 1, actor_of(catalog_client))


GOOD_PRODUCT = {"sku": "COF-7", "name": "Coffee", "price": 1299}


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        pytest.param({"sku": MISSING, "name": MISSING, "price": MISSING}, {"sku", "name", "price"}, id="nothing"),
        pytest.param({"sku": "COF 7"}, {"sku"}, id="space in sku"),
        pytest.param({"sku": "-COF"}, {"sku"}, id="sku starts with dash"),
        pytest.param({"sku": "C\x00F"}, {"sku"}, id="NUL in sku"),
        pytest.param({"sku": "C" * 65}, {"sku"}, id="sku too long"),
        pytest.param({"name": "Cof\x00fee"}, {"name"}, id="NUL in name"),
        pytest.param({"name": "C" * 201}, {"name"}, id="name too long"),
        *(
            pytest.param({"price": bad}, {"price"}, id=f"price {bad!r}")
            for bad in [0, -5, 100_000_001, "x", 12.5, True, None, [1299]]
        ),
    ],
)
def test_add_product_rejects_malformed_input(catalog_client, change, fields):
    body = body_with(GOOD_PRODUCT, change)

    with nothing_written():
        response = catalog_client.post(PRODUCTS, body, format="json")

    assert_field_errors(response, fields)


def test_add_product_refuses_a_sku_that_exists(catalog_client, product):
    with nothing_written():
        response = catalog_client.post(PRODUCTS, {**GOOD_PRODUCT, "sku": product[0]}, format="json")

    assert_error(response, 400, "validation_error", {"sku": ["already exists"]})


# --- change a customer or a product (PATCH, one change each) -------------------------------

# change: (resource, body, event type)
CHANGES = {
    "rename": ("customer", {"name": "Grace B. Hopper"}, "CustomerRenamed"),
    "deactivate": ("customer", {"is_active": False}, "CustomerDeactivated"),
    "reprice": ("product", {"price": 999}, "ProductRepriced"),
    "retire": ("product", {"is_active": False}, "ProductRetired"),
}


@pytest.fixture
def customer_id() -> int:
    return customer_register(name="Grace Hopper", email="grace@example.com").aggregate_id


def patch(client, change: str, customer_id: int, sku: str, *, body=None, expected_version=None, **headers):
    resource, default_body, _ = CHANGES[change]
    url = f"{CUSTOMERS}{customer_id}/" if resource == "customer" else f"{PRODUCTS}{sku}/"
    body = dict(default_body if body is None else body)
    if expected_version is not None:
        body["expected_version"] = expected_version
    return client.patch(url, body, format="json", headers=headers)


def assert_changed(response, change: str, customer_id: int, product: tuple[str, int], version: int) -> dict:
    if CHANGES[change][0] == "customer":
        return assert_customer_ok(response, customer_id=customer_id, version=version)
    return assert_product_ok(response, sku=product[0], product_id=product[1], version=version)


@pytest.mark.parametrize("change", CHANGES)
def test_change_answers_200_and_records_one_event(catalog_client, customer_id, product, change):
    before = outbox_count()

    response = patch(catalog_client, change, customer_id, product[0])

    body = assert_changed(response, change, customer_id, product, version=2)
    assert outbox_count() == before + 1
    aggregate_id = customer_id if CHANGES[change][0] == "customer" else product[1]
    assert last_event() == (body["position"], CHANGES[change][2], aggregate_id, 2, actor_of(catalog_client))


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("how", ["expected_version", "If-Match", "both", "If-Match *"])
def test_change_at_the_current_version_succeeds(catalog_client, customer_id, product, change, how):
    expected = 1 if how in ("expected_version", "both") else None
    headers = {"If-Match": '"1"'} if how in ("If-Match", "both") else {}
    headers = {"If-Match": "*"} if how == "If-Match *" else headers

    response = patch(catalog_client, change, customer_id, product[0], expected_version=expected, **headers)

    assert_changed(response, change, customer_id, product, version=2)


@pytest.mark.parametrize("change", CHANGES)
def test_change_at_a_stale_expected_version_is_a_version_conflict(catalog_client, customer_id, product, change):
    with nothing_written():
        response = patch(catalog_client, change, customer_id, product[0], expected_version=4)

    assert_error(response, 409, "version_conflict", {"expected_version": 4, "current_version": 1})


@pytest.mark.parametrize("change", CHANGES)
def test_change_with_a_stale_if_match_fails_its_precondition(catalog_client, customer_id, product, change):
    with nothing_written():
        response = patch(catalog_client, change, customer_id, product[0], **{"If-Match": '"4"'})

    assert_error(response, 412, "precondition_failed", {"expected_version": 4, "current_version": 1})


@pytest.mark.parametrize("change", CHANGES)
def test_change_with_if_match_disagreeing_with_expected_version_is_refused(
    catalog_client, customer_id, product, change
):
    with nothing_written():
        response = patch(catalog_client, change, customer_id, product[0], expected_version=2, **{"If-Match": '"1"'})

    assert_field_errors(response, {"If-Match"})


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("if_match", ['W/"1"', "abc", "1", '"0"'])
def test_a_malformed_if_match_is_a_validation_error(catalog_client, customer_id, product, change, if_match):
    with nothing_written():
        response = patch(catalog_client, change, customer_id, product[0], **{"If-Match": if_match})

    assert_field_errors(response, {"If-Match"})


@pytest.mark.parametrize(
    ("change", "body", "fields"),
    [
        pytest.param("rename", {}, {"name"}, id="customer: no change"),
        pytest.param("rename", {"name": "Grace", "is_active": False}, {"name"}, id="customer: two changes"),
        pytest.param("deactivate", {"is_active": True}, {"is_active"}, id="customer: reactivate"),
        pytest.param("deactivate", {"is_active": "maybe"}, {"is_active"}, id="customer: is_active not a bool"),
        pytest.param("rename", {"name": "   "}, {"name"}, id="customer: blank name"),
        pytest.param("rename", {"name": "G\x00"}, {"name"}, id="customer: NUL in name"),
        pytest.param("rename", {"name": "G" * 201}, {"name"}, id="customer: name too long"),
        pytest.param("rename", {"name": "G", "expected_version": 0}, {"expected_version"}, id="customer: version 0"),
        pytest.param("reprice", {}, {"price"}, id="product: no change"),
        pytest.param("reprice", {"price": 999, "is_active": False}, {"price"}, id="product: two changes"),
        pytest.param("retire", {"is_active": True}, {"is_active"}, id="product: reactivate"),
        pytest.param("reprice", {"price": 0}, {"price"}, id="product: price 0"),
        pytest.param("reprice", {"price": "cheap"}, {"price"}, id="product: price not a number"),
        pytest.param("reprice", {"price": 9.5}, {"price"}, id="product: price 9.5"),
        pytest.param("reprice", {"price": 100_000_001}, {"price"}, id="product: price too high"),
    ],
)
def test_change_rejects_malformed_input(catalog_client, customer_id, product, change, body, fields):
    with nothing_written():
        response = patch(catalog_client, change, customer_id, product[0], body=body)

    assert_field_errors(response, fields)


@pytest.mark.parametrize("change", CHANGES)
def test_change_of_an_unknown_customer_or_product_is_not_found(catalog_client, change):
    with nothing_written():
        response = patch(catalog_client, change, UNKNOWN_CUSTOMER, "NO-SUCH-SKU")

    details = {"customer_id": UNKNOWN_CUSTOMER} if CHANGES[change][0] == "customer" else {"sku": "NO-SUCH-SKU"}
    assert_error(response, 404, "not_found", details)


@pytest.mark.parametrize(
    ("url", "fields"),
    [(f"{CUSTOMERS}{10**30}/", {"customer_id"}), (f"{PRODUCTS}bad%20sku/", {"sku"})],
    ids=["customer id beyond bigint", "sku with a space"],
)
def test_change_of_a_malformed_identifier_is_a_validation_error(catalog_client, url, fields):
    with nothing_written():
        response = catalog_client.patch(url, {"is_active": False}, format="json")

    assert_field_errors(response, fields)


def test_deactivating_an_inactive_customer_is_an_invariant_violation(catalog_client, customer_id):
    customer_deactivate(customer_id=customer_id)

    with nothing_written():
        response = catalog_client.patch(f"{CUSTOMERS}{customer_id}/", {"is_active": False}, format="json")

    assert_error(response, 422, "invariant_violated", {"customer_id": customer_id})


def test_retiring_a_retired_product_is_an_invariant_violation(catalog_client, product):
    product_retire(sku=product[0])

    with nothing_written():
        response = catalog_client.patch(f"{PRODUCTS}{product[0]}/", {"is_active": False}, format="json")

    assert_error(response, 422, "invariant_violated", {"sku": product[0]})


# --- authentication and rights -------------------------------------------------------------

COMMANDS = ["register", "add_product", *CHANGES]


def send_any(client, command: str, customer_id: int, sku: str):
    if command == "register":
        return client.post(CUSTOMERS, GOOD_CUSTOMER | {"email": "new@example.com"}, format="json")
    if command == "add_product":
        return client.post(PRODUCTS, GOOD_PRODUCT, format="json")
    return patch(client, command, customer_id, sku)


@pytest.mark.parametrize("command", COMMANDS)
def test_anonymous_commands_are_refused_with_a_token_challenge(anonymous_client, customer_id, product, command):
    with nothing_written():
        response = send_any(anonymous_client, command, customer_id, product[0])

    assert_error(response, 401, "not_authenticated", {})
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_token_is_refused(customer_id, product, command):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    with nothing_written():
        response = send_any(client, command, customer_id, product[0])

    assert_error(response, 401, "authentication_failed", {})
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("client_fixture", ["clerk_client", "manager_client"])
@pytest.mark.parametrize("command", COMMANDS)
def test_users_without_the_catalogue_right_are_forbidden(request, customer_id, product, client_fixture, command):
    client = request.getfixturevalue(client_fixture)

    with nothing_written():
        response = send_any(client, command, customer_id, product[0])

    assert_error(response, 403, "permission_denied", {})


@pytest.mark.parametrize("command", COMMANDS)
def test_a_superuser_may_run_every_catalogue_command(admin_client_api, customer_id, product, command):
    before = outbox_count()

    response = send_any(admin_client_api, command, customer_id, product[0])

    assert response.status_code in (200, 201), response.content
    assert outbox_count() == before + 1
    assert last_event()[4] == actor_of(admin_client_api)
