"""Liveness and readiness: ready only with a fresh worker and little lag; the checks only for a login."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders_write.clock import frozen_at
from orders_write.services import LineInput, order_place
from tests.api.conftest import client_for, make_user


@pytest.fixture
def web(db):
    """A client with a session login: it sees the checks (anonymous callers see only the status)."""
    client = Client()
    client.force_login(make_user())
    return client


@pytest.fixture
def anonymous():
    """A plain client: no token, no session."""
    return Client()


def ready(web) -> tuple[int, dict]:
    response = web.get("/health/ready")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def test_live_answers_200_without_authentication(web):
    response = web.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "live"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_answers_only_get(web, path):
    assert web.post(path).status_code == 405


def test_ready_after_a_drain(web, drain, customer, sku):
    order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    drain()

    status, body = ready(web)

    assert status == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["default"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is True
    assert 0 <= body["checks"]["worker"]["heartbeat_age_seconds"] < 60
    assert body["checks"]["lag"] == {"ok": True, "max_lag_seconds": 0.0}


def test_not_ready_before_any_drain_has_run(web, projected):
    status, body = ready(web)

    assert status == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["worker"] == {"ok": False, "heartbeat_age_seconds": None}


def test_not_ready_when_the_heartbeat_is_stale(web, drain, customer):
    drain()
    assert ready(web)[0] == 200
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projection_checkpoint SET heartbeat_at = heartbeat_at - interval '10 minutes'")

    status, body = ready(web)

    assert status == 503, body
    assert body["status"] == "not_ready"
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["heartbeat_age_seconds"] >= 600
    assert body["checks"]["lag"]["ok"] is True, "only the failing check fails"
    assert body["checks"]["default"] == {"ok": True}

    drain()  # a drain (or the minute sweep) refreshes the heartbeat
    assert ready(web)[0] == 200


def test_the_heartbeat_max_age_setting_decides_staleness(web, drain, customer, settings):
    """The heartbeats are aged by hand, not by sleeping: a busy machine cannot make them stale early."""
    drain()
    settings.HEALTH_HEARTBEAT_MAX_AGE = 60
    assert ready(web)[0] == 200
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projection_checkpoint SET heartbeat_at = heartbeat_at - interval '61 seconds'")

    status, body = ready(web)

    assert status == 503, body
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["heartbeat_age_seconds"] > 60
    settings.HEALTH_HEARTBEAT_MAX_AGE = 120  # the same heartbeats, a longer max age
    assert ready(web)[0] == 200


def test_one_fresh_heartbeat_is_enough(web, drain, customer):
    drain()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projection_checkpoint SET heartbeat_at = heartbeat_at - interval '10 minutes' "
            "WHERE projection = %s",
            ["sales"],
        )

    assert ready(web)[0] == 200


def test_not_ready_when_a_projection_lags_too_long(web, drain, customer, sku, settings):
    drain()
    settings.HEALTH_MAX_LAG_SECONDS = 0.2
    order_place(customer_id=customer, lines=[LineInput(sku, 1)])  # not drained
    time.sleep(0.4)

    status, body = ready(web)

    assert status == 503, body
    assert body["status"] == "not_ready"
    assert body["checks"]["lag"]["ok"] is False
    assert body["checks"]["lag"]["max_lag_seconds"] >= 0.4
    assert body["checks"]["worker"]["ok"] is True, "the heartbeat is fresh: only the lag fails"

    drain()
    status, body = ready(web)
    assert status == 200, body
    assert body["checks"]["lag"] == {"ok": True, "max_lag_seconds": 0.0}


def test_a_young_lag_is_still_ready(web, drain, customer, sku, settings):
    drain()
    settings.HEALTH_MAX_LAG_SECONDS = 60
    order_place(customer_id=customer, lines=[LineInput(sku, 1)])  # not drained, but just now

    status, body = ready(web)

    assert status == 200, body
    assert 0 < body["checks"]["lag"]["max_lag_seconds"] < 60


def test_lag_is_measured_from_the_oldest_waiting_event(web, drain, customer, sku):
    drain()
    with frozen_at(timezone.now() - timedelta(minutes=5)):
        order_place(customer_id=customer, lines=[LineInput(sku, 1)])

    status, body = ready(web)

    assert status == 503, body
    assert body["checks"]["lag"]["max_lag_seconds"] >= 300


def test_anonymous_callers_get_only_the_status(anonymous, drain, customer, sku):
    response = anonymous.get("/health/ready")
    assert response.status_code == 503 and response.json() == {"status": "not_ready"}
    drain()
    response = anonymous.get("/health/ready")
    assert response.status_code == 200 and response.json() == {"status": "ready"}


def test_an_api_token_also_sees_the_checks(db, anonymous):
    token = client_for(make_user())._credentials["HTTP_AUTHORIZATION"]
    assert "checks" in anonymous.get("/health/ready", HTTP_AUTHORIZATION=token).json()
    assert "checks" not in anonymous.get("/health/ready", HTTP_AUTHORIZATION="Token not-a-token").json()


def test_the_checks_run_at_most_once_per_cache_window(web, drain, settings, django_assert_num_queries):
    """A burst of polls costs one round of checks: the others are answered from memory."""
    drain()
    settings.HEALTH_CACHE_SECONDS = 30
    first = ready(web)
    anonymous = Client()
    with django_assert_num_queries(0):
        for _ in range(5):
            assert anonymous.get("/health/ready").status_code == first[0]
    settings.HEALTH_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as captured:
        anonymous.get("/health/ready")
    assert len(captured) > 0, "with the cache off the checks run again"
