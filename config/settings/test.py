"""Test overrides: PostgreSQL by default, fast password hashing."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The webhooks relay (ADR 0020) is left out of the suite's consumers, which the projection and
# API tests enumerate; the webhook tests add it back (tests/webhooks/conftest.py).
CONSUMERS = [name for name in CONSUMERS if name != "webhooks.fanout.WebhookFanOut"]  # noqa: F405
