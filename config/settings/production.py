"""Production overrides: DEBUG off, HTTPS only, strong secrets required (passes check --deploy).

``config/wsgi.py`` and ``config/asgi.py`` load this module unless ``DJANGO_SETTINGS_MODULE`` says
otherwise, so a bare ``gunicorn config.wsgi`` gets it (ADR 0022).
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_FORMAT", "json")  # one JSON object per line for the log shipper (ADR 0024)
os.environ.setdefault("STAFF_2FA", "required")  # superusers and manage rights enrol a TOTP device (ADR 0030)
os.environ.setdefault("SESSION_IDLE_TIMEOUT_MINUTES", "30")  # idle staff sessions end (ADR 0030)
os.environ.setdefault("SESSION_MAX_HOURS", "12")  # and every session 12 h after its login (ASVS 3.3.2)

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int
from config.settings.base import *  # noqa: F403
from config.settings.base import _DEV_SECRET_KEY, DEBUG, METRICS_TOKEN, SECRET_KEY

if DEBUG:
    raise ImproperlyConfigured("DEBUG: must be off with config.settings.production")


def weak_secret_key(key: str) -> bool:
    """Say whether ``key`` is one Django's deploy check calls weak (security.W009), or the dev key."""
    return key == _DEV_SECRET_KEY or key.startswith("django-insecure-") or len(key) < 50 or len(set(key)) < 5


if weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY: too weak for production (needs 50+ characters, 5+ distinct, not a development key); "
        "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# /metrics shows business figures and runs the collector's queries on every scrape: never open
# to anyone in production (ADR 0026). Prometheus sends the token (``authorization: credentials``).
METRICS_TOKEN_MIN_LENGTH = 32
if METRICS_TOKEN is None or len(METRICS_TOKEN) < METRICS_TOKEN_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"METRICS_TOKEN: must be set with config.settings.production ({METRICS_TOKEN_MIN_LENGTH}+ characters), "
        "or /metrics is open to anyone; generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))' and give it to Prometheus as its bearer token"
    )

# Static files (ADR 0026): what ``collectstatic`` wrote to STATIC_ROOT, gzip-compressed, under names
# carrying a hash of their content, so WhiteNoise sends them with a cache lifetime of ten years
# (``immutable``); a changed file gets a new name. A page naming a file collectstatic did not see
# fails (500) rather than pointing at nothing.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Trust X-Forwarded-Proto only when told a proxy sets it (and strips it from clients): trusting it
# by default would let any client claim HTTPS when the app is reached directly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", False) else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
# Both reach beyond this site (every subdomain; browsers' built-in lists, slow to leave): opt in.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Declining them is a choice made above, through the environment, so the deploy check's reminders
# (W005, W021) are not warnings to act on; every other deploy warning still fails the check.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
