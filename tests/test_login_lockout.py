"""Login lockout (django-axes): N failures per username and IP address lock that pair out for a cool-off.

Both password logins are covered: the admin's and the dashboard's. Real requests through the
middleware and the authentication backends, the attempts counted in the database.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import F
from django.test import Client

from config.rights import VIEW_REPORTS, codename

pytestmark = pytest.mark.django_db
PASSWORD = "the-right-password-42"
LOGIN_PAGES = {"/admin/login/?next=/admin/": "/admin/", "/dashboard/login/": "/dashboard/"}


@pytest.fixture
def staff_viewer():
    user = get_user_model().objects.create_user(username="ada", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename=codename(VIEW_REPORTS)))
    return user


def log_in(client: Client, path: str, password: str, username: str = "ada", ip: str = "10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_limit_defaults_to_ten_per_username_and_ip(settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.parametrize("path", list(LOGIN_PAGES))
def test_the_11th_login_is_locked_out_and_the_right_password_waits_for_the_cool_off(path, staff_viewer, settings):
    # A minute, so no attempt below can outrun it on a busy machine; it is let pass by moving the
    # attempts back by hand, not by sleeping.
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    client = Client()
    for attempt in range(1, 10):
        response = log_in(client, path, "wrong")
        assert response.status_code == 200, attempt  # the form again, with its error
        assert b"locked-out" not in response.content
    tenth = log_in(client, path, "wrong")
    assert tenth.status_code == 429 and b"locked-out" in tenth.content  # the 10th failure locks

    eleventh = log_in(client, path, PASSWORD)

    assert eleventh.status_code == 429
    assert b"Too many failed logins" in eleventh.content and b"Try again in 0:01:00" in eleventh.content
    assert not logged_in(client)
    # Per username and address: the same user elsewhere, another user here, still log in.
    assert log_in(Client(), path, PASSWORD, ip="10.0.0.2").status_code == 302
    get_user_model().objects.create_user(username="bob", password=PASSWORD, is_staff=True)
    assert log_in(Client(), path, PASSWORD, username="bob").status_code == 302

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=61))
    after = log_in(client, path, PASSWORD)
    assert after.status_code == 302 and after["Location"] == LOGIN_PAGES[path]
    assert logged_in(client)


def test_staff_unlock_a_locked_out_login_in_the_admin(staff_viewer, admin_client):
    client = Client()
    for _ in range(10):
        log_in(client, "/dashboard/login/", "wrong")
    assert log_in(client, "/dashboard/login/", PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username="ada")
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and b"ada" in listing.content

    response = admin_client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert log_in(client, "/dashboard/login/", PASSWORD).status_code == 302
    assert logged_in(client)
