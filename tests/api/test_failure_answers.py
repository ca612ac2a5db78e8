"""Failures outside the input (ADR 0023): an oversized body, an unreachable database; always the JSON shape.

The database failures are real: the request's PostgreSQL backend is terminated from another
connection (what a restart or failover does to an open connection), or the connection points at
a port where no server listens (the server is down).
"""

import socket
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.api.responses import assert_error, outbox_count


def test_an_oversized_body_is_a_json_413(clerk_client):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = '{"customer_id": 1, "lines": [{"sku": "' + "A" * limit + '", "quantity": 1}]}'
    before = outbox_count()
    response = clerk_client.post("/api/orders/", body, content_type="application/json")
    assert response["Content-Type"] == "application/json"
    assert assert_error(response, 413, "payload_too_large") == {"max_bytes": limit}
    assert outbox_count() == before


def _terminate_this_backend() -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    parameters = connection.get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in parameters.items() if k not in {"cursor_factory", "context"}}, autocommit=True
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


@contextmanager
def database_down():
    """Point the connection at a port nothing listens on, as if PostgreSQL were stopped."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and closed again: connecting is refused
    original = connection.settings_dict["PORT"], connection.settings_dict["HOST"]
    connection.close()
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", port
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"], connection.settings_dict["HOST"] = original


def assert_unavailable(response) -> None:
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/orders/", None),
        ("get", "/api/reports/summary/", None),
        ("post", "/api/orders/", {"customer_id": 1, "lines": [{"sku": "A", "quantity": 1}]}),
    ],
)
def test_a_dropped_connection_is_a_503_with_retry_after(projected, admin_client_api, method, path, body):
    _terminate_this_backend()
    try:
        assert_unavailable(getattr(admin_client_api, method)(path, body, format="json"))
    finally:
        connection.close()
    assert admin_client_api.get("/api/orders/").status_code == 200  # the next request reconnects


@pytest.mark.parametrize("path", ["/api/orders/", "/api/orders/1/history/", "/api/projections/"])
def test_a_stopped_database_is_a_503_with_retry_after(projected, admin_client_api, path):
    with database_down():
        assert_unavailable(admin_client_api.get(path))


def test_a_command_against_a_stopped_database_is_a_503(projected, clerk_client, customer, sku):
    before = outbox_count()
    with database_down():
        response = clerk_client.post(
            "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]}, format="json"
        )
    assert_unavailable(response)
    assert outbox_count() == before
