"""A lost device: staff delete it in the admin, or an operator runs ``reset_two_factor`` (ADR 0030)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.rights import MANAGE_ORDERS, VIEW_REPORTS
from tests.staff_auth.logins import add_device, code, make_user, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.STAFF_2FA = "required"


def logged_in_with_code(user):
    client = password_login(user)
    assert client.post("/two-factor/", {"code": code(add_device(user))}).status_code == 302
    return client


def test_a_superuser_resets_a_users_device_in_the_admin_and_never_sees_its_secret(required):
    superuser = logged_in_with_code(make_user(superuser=True))
    clerk = make_user(MANAGE_ORDERS, VIEW_REPORTS)
    device = add_device(clerk)
    change = superuser.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert change.status_code == 200 and device.key.encode() not in change.content
    assert superuser.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403

    deleted = superuser.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302 and not TOTPDevice.objects.filter(user=clerk).exists()
    assert password_login(clerk).get("/admin/")["Location"] == "/two-factor/enrol/?next=/admin/"


def test_reset_two_factor_deletes_the_devices_and_the_users_sessions_must_enrol_again(required):
    user = make_user(superuser=True)
    client = logged_in_with_code(user)
    assert client.get("/admin/").status_code == 200

    out = StringIO()
    call_command("reset_two_factor", user.username, stdout=out)

    assert "Deleted 1 two-factor device(s)" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists()
    held = client.get("/admin/")  # the session's device is gone: it owes a code, then an enrolment
    assert held["Location"] == "/two-factor/?next=/admin/"
    assert client.get(held["Location"])["Location"] == "/admin/"
    assert client.get("/admin/")["Location"] == "/two-factor/enrol/?next=/admin/"


def test_reset_two_factor_names_an_unknown_user():
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("reset_two_factor", "nobody")
