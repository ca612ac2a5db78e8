"""What a login writes into its session: the device check, the idle clock, the absolute expiry.

The idle clock is refreshed at most once a minute (``IdleSessionMiddleware``), and each refresh
saves the session, which would push Django's expiry (``SESSION_COOKIE_AGE`` from the last save)
forward for ever; so the expiry is pinned at login: a session ends ``SESSION_COOKIE_AGE`` after
its login, however busy (ADR 0030).
"""

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_otp import user_has_device

from staff_auth.policy import remember_device

# Session key: the Unix time of the session's last request, to the minute.
LAST_SEEN_KEY = "staff_auth_last_seen"


def on_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: start the idle clock, pin the expiry, note the device."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[LAST_SEEN_KEY] = int(time.time())
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    remember_device(request, has_device=user_has_device(user))
