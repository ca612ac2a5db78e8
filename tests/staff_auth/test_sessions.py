"""Idle sessions end (``SESSION_IDLE_TIMEOUT_MINUTES``), and a busy one still ends on time (ADR 0030)."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.rights import VIEW_REPORTS
from staff_auth.sessions import LAST_SEEN_KEY
from tests.staff_auth.logins import DASHBOARD_LOGIN, make_user, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    client = password_login(make_user(VIEW_REPORTS, staff=False), DASHBOARD_LOGIN)
    assert client.get("/dashboard/").status_code == 200
    return client


def idle_for(client, minutes: int) -> None:
    """Move the session's last request ``minutes`` into the past, as if nobody had used it since."""
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - minutes * 60
    session.save()


def test_a_session_idle_past_the_timeout_is_logged_out(viewer_client):
    idle_for(viewer_client, 31)

    response = viewer_client.get("/dashboard/")

    assert response.status_code == 302 and response["Location"] == "/dashboard/login/?next=/dashboard/"
    assert "_auth_user_id" not in viewer_client.session


def test_a_request_within_the_timeout_restarts_the_clock_but_not_the_sessions_end(viewer_client):
    ends = viewer_client.session.get_expiry_date()
    idle_for(viewer_client, 29)
    before = int(time.time())

    assert viewer_client.get("/dashboard/").status_code == 200

    session = viewer_client.session
    assert session[LAST_SEEN_KEY] >= before, "the request restarted the idle clock"
    assert session.get_expiry_date() == ends, "a session ends SESSION_COOKIE_AGE after its login, however busy"
    idle_for(viewer_client, 29)
    assert viewer_client.get("/dashboard/").status_code == 200


def test_the_clock_is_written_at_most_once_a_minute(viewer_client):
    with CaptureQueriesContext(connection) as captured:
        assert viewer_client.get("/dashboard/").status_code == 200
    writes = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]
    ]
    assert writes == []


def test_zero_turns_the_timeout_off(viewer_client, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 0
    idle_for(viewer_client, 24 * 60)

    assert viewer_client.get("/dashboard/").status_code == 200
