"""Who owes a second factor, and what a session that still owes one must do next.

A superuser, or a holder of a right that changes what the system holds or sends (the manage
rights), must use a TOTP device when ``STAFF_2FA`` is ``required`` (the production default).
Whoever has enrolled a device is asked for its code in either mode: a device, once there, is
never skipped.

Rights are read on each request (Django caches them on the user for the request, and the admin
reads them anyway); whether the user has a device is read once per session, when it logs in, so
a report viewer's request costs no query for it (ADR 0030).
"""

from django.conf import settings
from django.http import HttpRequest
from django_otp import user_has_device

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, MANAGE_PROJECTIONS, MANAGE_WEBHOOKS

# Holding any of these (or being a superuser) requires a second factor under ``required``: the
# manage rights, and the admin's rights over users, groups and devices, with which a user could
# grant themselves any right or remove another user's second factor.
MANAGE_RIGHTS = (
    MANAGE_ORDERS,
    MANAGE_CATALOG,
    MANAGE_PROJECTIONS,
    MANAGE_WEBHOOKS,
    "auth.add_user",
    "auth.change_user",
    "auth.change_group",
    "otp_totp.change_totpdevice",
    "otp_totp.delete_totpdevice",
)

# Session key: whether the logged-in user had a confirmed device when the session checked.
HAS_DEVICE_KEY = "staff_auth_has_device"

VERIFY = "verify"
ENROL = "enrol"


def second_factor_required(user) -> bool:
    """Say whether ``user`` must have a second factor under the current ``STAFF_2FA`` setting."""
    if settings.STAFF_2FA != "required" or not user.is_active:
        return False
    return user.is_superuser or any(user.has_perm(right) for right in MANAGE_RIGHTS)


def remember_device(request: HttpRequest, *, has_device: bool) -> None:
    """Record in the session whether its user has a confirmed device (see the module docstring)."""
    request.session[HAS_DEVICE_KEY] = has_device


def session_has_device(request: HttpRequest) -> bool:
    """Say whether the session's user has a confirmed device, asking the database once per session."""
    has_device = request.session.get(HAS_DEVICE_KEY)
    if has_device is None:  # a session from before this check existed
        has_device = user_has_device(request.user)
        remember_device(request, has_device=has_device)
    return has_device


def pending_step(request: HttpRequest) -> str | None:
    """Return ``VERIFY`` or ``ENROL`` while the session owes a second factor, else ``None``."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return None
    if session_has_device(request):
        return VERIFY
    if second_factor_required(user):
        return ENROL
    return None
