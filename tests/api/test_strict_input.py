"""Strict input (ADR 0023): what the schema does not allow is a 400 naming the field, and writes nothing.

DRF alone accepts every request below (an empty parameter reads as none, ``0`` becomes ``"0"``,
``"2"`` becomes 2, ``fromisoformat`` takes ``20240101``); each case here was a 2xx before.
"""

import pytest

from tests.api.responses import assert_field_errors, nothing_written


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/orders/", {"customer": ""}, "customer"),
        ("/api/orders/", {"limit": ""}, "limit"),
        ("/api/orders/", {"status": ""}, "status"),
        ("/api/orders/", {"min_position": ""}, "min_position"),
        ("/api/orders/", {"limit": "5.0"}, "limit"),
        ("/api/orders/", {"limit": " 5"}, "limit"),
        ("/api/orders/", {"placed_after": "20240101T000000"}, "placed_after"),
        ("/api/orders/", {"placed_before": "2024-W01-1"}, "placed_before"),
        ("/api/orders/", {"placed_after": "2024-01-01"}, "placed_after"),
        ("/api/reports/summary/", {"from": "2024-1-1"}, "from"),
        ("/api/reports/daily-sales/", {"to": "20240101"}, "to"),
        ("/api/reports/top-products/", {"limit": ""}, "limit"),
        ("/api/customers/1/orders/", {"limit": "+3"}, "limit"),
    ],
)
def test_a_query_parameter_the_schema_does_not_allow_is_a_400_naming_it(manager_client, path, query, field):
    assert_field_errors(manager_client.get(path, query), {field})


def test_a_repeated_parameter_is_a_400(manager_client):
    assert_field_errors(manager_client.get("/api/orders/?limit=5&limit=6"), {"limit"})


def test_empty_history_as_of_is_a_400(manager_client):
    assert_field_errors(manager_client.get("/api/orders/1/history/", {"as_of": ""}), {"as_of"})


def test_well_formed_parameters_are_still_accepted(manager_client):
    response = manager_client.get(
        "/api/orders/",
        {"limit": "5", "placed_after": "2024-01-01T00:00:00Z", "placed_before": "2024-02-01 10:00:00.5+01:00"},
    )
    assert response.status_code == 200, response.content
    assert manager_client.get("/api/reports/summary/", {"from": "2024-01-01", "to": "2024-01-31"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "NEW-1", "name": 0, "price": 100}, "name"),
        ({"sku": 7, "name": "Tea", "price": 100}, "sku"),
        ({"sku": "NEW-1", "name": "Tea", "price": "100"}, "price"),
        ({"sku": "NEW-1", "name": "Tea", "price": True}, "price"),
        ({"sku": "NEW-1", "name": "Tea", "price": 100.5}, "price"),
    ],
)
def test_a_body_value_of_the_wrong_json_type_is_a_400_naming_it(catalog_client, body, field):
    with nothing_written():
        assert_field_errors(catalog_client.post("/api/products/", body, format="json"), {field})


def test_an_integral_float_is_an_integer_as_json_schema_says(catalog_client):
    response = catalog_client.post("/api/products/", {"sku": "FLOAT-1", "name": "Tea", "price": 100.0}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/orders/", {"customer_id": "1", "lines": [{"sku": "A", "quantity": 1}]}, "customer_id"),
        ("/api/orders/", {"customer_id": 1, "lines": [{"sku": "A", "quantity": "2"}]}, "lines[0].quantity"),
        ("/api/orders/", {"customer_id": 1, "lines": [{"sku": 5, "quantity": 2}]}, "lines[0].sku"),
        ("/api/orders/", {"customer_id": 1, "lines": {"sku": "A", "quantity": 2}}, "lines"),
        ("/api/orders/1/ship/", {"tracking_number": 12345}, "tracking_number"),
        ("/api/orders/1/ship/", {"tracking_number": "\x1c" + "*" * 70}, "tracking_number"),  # too long untrimmed
        ("/api/orders/1/cancel/", {"reason": "late", "expected_version": "1"}, "expected_version"),
    ],
)
def test_order_commands_are_strict_too(clerk_client, path, body, field):
    with nothing_written():
        assert_field_errors(clerk_client.post(path, body, format="json"), {field})


def test_a_customer_flag_must_be_a_boolean(catalog_client, customer):
    with nothing_written():
        response = catalog_client.patch(f"/api/customers/{customer}/", {"is_active": "false"}, format="json")
    assert_field_errors(response, {"is_active"})


def test_bad_fields_are_all_reported_together(catalog_client):
    response = catalog_client.post("/api/products/", {"sku": 7, "name": "Tea", "price": 0}, format="json")
    assert_field_errors(response, {"sku", "price"})
