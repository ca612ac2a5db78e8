"""Liveness and readiness for load balancers and orchestrators (no authentication, no secrets).

``/health/live`` answers 200 while the process can serve requests at all. ``/health/ready``
answers 200 only when this instance is worth sending users to: both databases answer, the
worker's heartbeat (every drain, and the minute sweep, refreshes the checkpoints) is fresh, and
no projection lags more than ``HEALTH_MAX_LAG_SECONDS``, and no consumer is still catching up on
a restore (``restored``) or cut off from events it cannot reach (``unreachable_events``);
otherwise 503 with the failing checks.

Load balancers poll ``/health/ready`` often and without credentials, so it is cheap and says
little (ADR 0023): the checks run at most once per ``HEALTH_CACHE_SECONDS`` per process (lag
counted up to a bound), and an anonymous caller gets only ``{"status"}`` and the status code;
the checks themselves need a login (a session or an API token).
"""

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings

from projections.runtime.status import RESTORE_STATES, consumer_health


@never_cache
@require_GET
def live(request) -> JsonResponse:
    return JsonResponse({"status": "live"})


_cache_lock = threading.Lock()
_cached: tuple[float, bool, dict] | None = None  # (monotonic time, ok, checks)


@never_cache
@require_GET
def ready(request) -> JsonResponse:
    ok, checks = _checks()
    body = {"status": "ready" if ok else "not_ready"}
    if _signed_in(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if ok else 503)


def _checks() -> tuple[bool, dict]:
    """Run the checks, or return the last result while it is younger than ``HEALTH_CACHE_SECONDS``."""
    global _cached
    with _cache_lock:  # one caller runs the checks; the others wait for its answer, not run their own
        now = time.monotonic()
        if _cached is not None and now - _cached[0] < settings.HEALTH_CACHE_SECONDS:
            return _cached[1], _cached[2]
        checks = {alias: _database(alias) for alias in settings.DATABASES}
        if all(check["ok"] for check in checks.values()):
            checks.update(_projections())
        ok = all(check["ok"] for check in checks.values())
        _cached = (now, ok, checks)
        return ok, checks


def _signed_in(request) -> bool:
    """Whether the caller has a session login or presents a valid API token."""
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return True
    if "HTTP_AUTHORIZATION" not in request.META:
        return False
    for authentication in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(authentication, SessionAuthentication):
            continue
        try:
            if authentication().authenticate(request) is not None:
                return True
        except (AuthenticationFailed, DatabaseError):
            return False
    return False


def _database(alias: str) -> dict:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def _projections() -> dict:
    report = consumer_health()
    now = timezone.now()
    heartbeats = [row.heartbeat_at for row in report if row.heartbeat_at is not None]
    newest = max(heartbeats, default=None)
    max_age = timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE)
    worst_lag = max((row.lag_seconds for row in report), default=0.0)
    return {
        "worker": {
            "ok": newest is not None and now - newest <= max_age,
            "heartbeat_age_seconds": None if newest is None else round((now - newest).total_seconds(), 3),
        },
        "lag": {"ok": worst_lag <= settings.HEALTH_MAX_LAG_SECONDS, "max_lag_seconds": round(worst_lag, 3)},
        # After a restore into another cluster, until every consumer has moved onto it (ADR 0017).
        "timeline": {
            "ok": not any(row.state in RESTORE_STATES for row in report),
            "restored": sorted(row.name for row in report if row.state in RESTORE_STATES),
        },
    }
