"""Staff users, real password logins through the login pages, and real TOTP codes."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django_otp.oath import hotp, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "a-long-staff-password-42"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
DASHBOARD_LOGIN = "/dashboard/login/?next=/dashboard/"
_usernames = itertools.count(1)


def make_user(*rights: str, staff: bool = True, superuser: bool = False):
    """A user holding exactly ``rights`` (``app_label.codename``), with the password ``PASSWORD``."""
    user = get_user_model().objects.create_user(
        username=f"member{next(_usernames)}", password=PASSWORD, is_staff=staff or superuser, is_superuser=superuser
    )
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def password_login(user, path: str = ADMIN_LOGIN) -> Client:
    """Return a client that passed ``path``'s password form as ``user``."""
    client = Client()
    response = client.post(path, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def add_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for ``device`` now (or ``steps_ahead`` steps of 30 s later).

    A device accepts each time step once; a later login uses ``next_code``.
    """
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift=steps_ahead):0{device.digits}d}"


def next_code(device: TOTPDevice) -> str:
    """The code of the step after the last one ``device`` accepted: what a later login types.

    Named by its step, not by the clock: a code used at the end of a 30 s step and checked in the
    next leaves the device's window a step back (django-otp's drift), and "the clock's next step"
    would then fall outside it. This one is inside the window whichever step the clock is in.
    """
    device.refresh_from_db()
    return f"{hotp(device.bin_key, device.last_t + 1, device.digits):0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits the device refuses: none of the codes its tolerance accepts now."""
    accepted = {code(device, steps_ahead=steps) for steps in (-1, 0, 1)}
    return next(candidate for candidate in ("000000", "111111", "222222", "333333") if candidate not in accepted)
