"""Signing secrets and Standard Webhooks signatures (the ``standardwebhooks`` package).

A secret is ``whsec_`` and 32 random bytes in base64, as the reference libraries expect. During
a rotation's overlap the old secret signs too, and both signatures travel space-separated in
``webhook-signature``, so a receiver still holding the old secret keeps verifying (ADR 0020).
"""

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(*, event_id: str, timestamp: datetime, body: bytes, secrets_in_use: list[str]) -> str:
    """Return ``webhook-signature``: ``v1,<base64 HMAC-SHA256>`` per secret, space-separated."""
    data = body.decode()
    return " ".join(Webhook(secret).sign(event_id, timestamp, data) for secret in secrets_in_use)
