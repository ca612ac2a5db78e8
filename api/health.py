"""Liveness and readiness for load balancers and orchestrators (no authentication, no secrets).

``/health/live`` answers 200 while the process can serve requests at all. ``/health/ready``
answers 200 only when this instance is worth sending users to: both databases answer, the
worker's heartbeat (every drain, and the minute sweep, refreshes the checkpoints) is fresh, and
no projection lags more than ``HEALTH_MAX_LAG_SECONDS``, and no consumer is still catching up on
a restore (``restored``) or cut off from events it cannot reach (``unreachable_events``);
otherwise 503 with the failing checks.
"""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from projections.runtime.status import RESTORE_STATES, consumer_health


@never_cache
@require_GET
def live(request) -> JsonResponse:
    return JsonResponse({"status": "live"})


@never_cache
@require_GET
def ready(request) -> JsonResponse:
    checks = {alias: _database(alias) for alias in settings.DATABASES}
    if all(check["ok"] for check in checks.values()):
        checks.update(_projections())
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503)


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
    heartbeats = [row["heartbeat_at"] for row in report if row["heartbeat_at"] is not None]
    newest = max(heartbeats, default=None)
    max_age = timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE)
    worst_lag = max((row["lag_seconds"] for row in report), default=0.0)
    return {
        "worker": {
            "ok": newest is not None and now - newest <= max_age,
            "heartbeat_age_seconds": None if newest is None else round((now - newest).total_seconds(), 3),
        },
        "lag": {"ok": worst_lag <= settings.HEALTH_MAX_LAG_SECONDS, "max_lag_seconds": round(worst_lag, 3)},
        # After a restore into another cluster, until every consumer has moved onto it (ADR 0017).
        "timeline": {
            "ok": not any(row["state"] in RESTORE_STATES for row in report),
            "restored": sorted(row["name"] for row in report if row["state"] in RESTORE_STATES),
        },
    }
