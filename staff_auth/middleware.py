"""Two middlewares on every request that carries a session cookie (ADR 0030).

``IdleSessionMiddleware`` logs out a session left idle for ``SESSION_IDLE_TIMEOUT_MINUTES``.
``SecondFactorMiddleware`` (after django-otp's ``OTPMiddleware``) keeps a session that owes a
second factor from every page but the second factor's own, the logins and the logouts: pages
redirect to the enrol or code page; the API sees an anonymous user (its session
authentication must not admit half a login; token requests carry no session cookie and are
never touched).
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from staff_auth.policy import ENROL, pending_step
from staff_auth.sessions import LAST_SEEN_KEY

# The idle clock is written at most this often, so a busy session is not saved on every request.
LAST_SEEN_RESOLUTION_SECONDS = 60

# Views a session owing a second factor may still reach (as itself).
OPEN_VIEWS = frozenset(
    {"staff_auth:verify", "staff_auth:enrol", "dashboard:login", "dashboard:logout", "admin:login", "admin:logout"}
)


def _has_session_cookie(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES


class IdleSessionMiddleware:
    """Log out a logged-in session whose last request is older than the idle timeout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
        if minutes and _has_session_cookie(request) and SESSION_KEY in request.session:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > minutes * 60:
                logout(request)  # flushes the session; the request goes on anonymous
            elif last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Send a session that owes a second factor to enrol or enter a code (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not _has_session_cookie(request):
            return None
        match = request.resolver_match
        if match is None or match.view_name in OPEN_VIEWS:
            return None
        step = pending_step(request)
        if step is None:
            return None
        if "api" in match.namespaces:
            request.user = AnonymousUser()
            return None
        page = reverse("staff_auth:enrol" if step == ENROL else "staff_auth:verify")
        return redirect_to_login(request.get_full_path(), page)
