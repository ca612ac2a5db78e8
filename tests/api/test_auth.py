"""Who may call what: every operation needs credentials, and its own right; nothing is written otherwise.

The operations come from the generated schema, so a new route is covered (or fails for want of an
entry in ``RIGHTS``) the moment it is documented, which test_schema.py makes sure it is.
"""

import json
import re

import pytest
from django.db import connection

from api.permissions import READ_ORDERS
from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, MANAGE_WEBHOOKS, VIEW_EVENTS, VIEW_REPORTS
from tests.api.conftest import client_for, make_user
from tests.api.test_schema import documented_operations, generated_schema

OPERATIONS = {
    operation["operationId"]: (method, path)
    for (path, method), operation in documented_operations(generated_schema()).items()
}

# The rights that let a caller past the permission check of each operation (any one suffices).
RIGHTS = {
    # order commands
    "order_place": {MANAGE_ORDERS},
    "order_line_add": {MANAGE_ORDERS},
    "order_line_remove": {MANAGE_ORDERS},
    "order_discount": {MANAGE_ORDERS},
    "order_confirm": {MANAGE_ORDERS},
    "order_ship": {MANAGE_ORDERS},
    "order_deliver": {MANAGE_ORDERS},
    "order_cancel": {MANAGE_ORDERS},
    # catalogue commands
    "customer_register": {MANAGE_CATALOG},
    "customer_change": {MANAGE_CATALOG},
    "product_add": {MANAGE_CATALOG},
    "product_change": {MANAGE_CATALOG},
    # order and customer reads
    "order_list": set(READ_ORDERS),
    "order_detail": set(READ_ORDERS),
    "order_history": set(READ_ORDERS),
    "customer_detail": set(READ_ORDERS),
    "customer_orders": set(READ_ORDERS),
    # reports
    "summary": {VIEW_REPORTS},
    "daily_sales": {VIEW_REPORTS},
    "top_products": {VIEW_REPORTS},
    "top_customers": {VIEW_REPORTS},
    "projections": {VIEW_REPORTS},
    # events out (ADR 0020)
    "event_feed": {VIEW_EVENTS},
    **{
        operation: {MANAGE_WEBHOOKS}
        for operation in (
            "webhook_list",
            "webhook_create",
            "webhook_detail",
            "webhook_change",
            "webhook_delete",
            "webhook_rotate_secret",
            "webhook_drop_previous_secret",
            "webhook_deliveries",
            "webhook_delivery_resend",
            "webhook_replay",
        )
    },
}
ALL_RIGHTS = (MANAGE_ORDERS, MANAGE_CATALOG, VIEW_REPORTS, VIEW_EVENTS, MANAGE_WEBHOOKS)


def outbox_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM outbox_event")
        return cursor.fetchone()[0]


def actors_after(position: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT actor FROM outbox_event WHERE position > %s ORDER BY position", [position])
        return [row[0] for row in cursor.fetchall()]


def outbox_head() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(position), 0) FROM outbox_event")
        return cursor.fetchone()[0]


def call(client, operation_id: str, body: dict | None = None, **path_values):
    """Call an operation by its id, path parameters filled with plausible values (ids 1, sku SKU-1)."""
    method, path = OPERATIONS[operation_id]
    defaults = {"sku": "SKU-1"}
    url = re.sub(r"{(\w+)}", lambda m: str(path_values.get(m[1], defaults.get(m[1], 1))), path)
    if method in {"post", "patch"}:
        return client.generic(method.upper(), url, json.dumps(body or {}), content_type="application/json")
    return client.generic(method.upper(), url)


def label(user) -> str:
    return f"user:{user.pk}:{user.get_username()}"


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code, response.content


def test_rights_table_covers_exactly_the_documented_operations():
    assert set(RIGHTS) == set(OPERATIONS)


# (a) no credentials, or bad ones: 401 everywhere, nothing written.


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_unauthenticated_request_is_401_and_writes_nothing(operation_id, anonymous_client):
    before = outbox_count()
    response = call(anonymous_client, operation_id)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert outbox_count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
@pytest.mark.parametrize("header", ["Token " + "0" * 40, "Token", "Token two words"])
def test_invalid_token_is_401_authentication_failed(operation_id, header, anonymous_client):
    before = outbox_count()
    anonymous_client.credentials(HTTP_AUTHORIZATION=header)
    response = call(anonymous_client, operation_id)
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"
    assert outbox_count() == before


# (b) two users with one right each: each may do only their part, and is recorded as the actor.


@pytest.mark.django_db
def test_two_users_each_limited_to_their_right_and_recorded_as_actor():
    catalog_user, clerk_user = make_user(MANAGE_CATALOG), make_user(MANAGE_ORDERS)
    catalog, clerk = client_for(catalog_user), client_for(clerk_user)

    head = outbox_head()
    response = call(catalog, "customer_register", {"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 201, response.content
    customer_id = response.json()["customer_id"]
    response = call(catalog, "product_add", {"sku": "TEA-1", "name": "Tea", "price": 450})
    assert response.status_code == 201, response.content
    assert actors_after(head) == [label(catalog_user)] * 2

    head = outbox_head()
    response = call(clerk, "order_place", {"customer_id": customer_id, "lines": [{"sku": "TEA-1", "quantity": 2}]})
    assert response.status_code == 201, response.content
    order_id = response.json()["order_id"]
    assert actors_after(head) == [label(clerk_user)]

    # Right after the clerk acted, the catalogue user still may not touch orders...
    before = outbox_count()
    attempts = [
        ("order_place", {"customer_id": customer_id, "lines": [{"sku": "TEA-1", "quantity": 1}]}),
        ("order_line_add", {"sku": "TEA-1", "quantity": 1}),
        ("order_line_remove", None),
        ("order_discount", {"percent": 10}),
        ("order_confirm", {}),
        ("order_cancel", {"reason": "not mine to cancel"}),
    ]
    for operation_id, body in attempts:
        assert_error(call(catalog, operation_id, body, order_id=order_id, sku="TEA-1"), 403, "permission_denied")
    # ...and the clerk may not touch the catalogue.
    for operation_id, body, values in [
        ("customer_register", {"name": "Bob", "email": "bob@example.com"}, {}),
        ("customer_change", {"name": "Ada L."}, {"customer_id": customer_id}),
        ("product_add", {"sku": "TEA-2", "name": "Green tea", "price": 500}, {}),
        ("product_change", {"price": 1}, {"sku": "TEA-1"}),
    ]:
        assert_error(call(clerk, operation_id, body, **values), 403, "permission_denied")
    assert outbox_count() == before

    # Each still can do their own part afterwards, under their own name.
    head = outbox_head()
    assert call(clerk, "order_confirm", {}, order_id=order_id).status_code == 200
    assert call(catalog, "product_change", {"price": 475}, sku="TEA-1").status_code == 200
    assert actors_after(head) == [label(clerk_user), label(catalog_user)]


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", ["order_list", "order_place", "customer_register"])
def test_token_of_a_deactivated_user_is_rejected(operation_id):
    user = make_user(*ALL_RIGHTS)
    client = client_for(user)
    assert call(client, operation_id).status_code not in {401, 403}  # the token worked while active
    user.is_active = False
    user.save()
    before = outbox_count()
    response = call(client, operation_id, {"name": "Eve", "email": "eve@example.com"})
    assert_error(response, 401, "authentication_failed")
    assert outbox_count() == before


# (c) each operation against each right: only the rights in the table get past the check.


@pytest.mark.django_db
@pytest.mark.parametrize("held", [None, *ALL_RIGHTS], ids=["no-right", *ALL_RIGHTS])
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_operation_needs_its_right(operation_id, held):
    assert operation_id in RIGHTS, f"add {operation_id} to RIGHTS"
    client = client_for(make_user(*([held] if held else [])))
    before = outbox_count()
    response = call(client, operation_id)
    if held in RIGHTS[operation_id]:
        assert response.status_code not in {401, 403}, response.content
    else:
        assert_error(response, 403, "permission_denied")
        assert outbox_count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_superuser_holds_every_right(operation_id):
    response = call(client_for(make_user(superuser=True)), operation_id)
    assert response.status_code not in {401, 403}, response.content
