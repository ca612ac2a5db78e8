"""Test overrides: PostgreSQL by default, fast password hashing."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# DEBUG is off by default (as in production), so the tests bring a throw-away key; child processes
# the tests start (manage.py, qcluster) inherit it from this environment.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x0y1z2" * 6)

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Health checks see every change at once (the cache has a test of its own, tests/api/test_health.py).
HEALTH_CACHE_SECONDS = 0
