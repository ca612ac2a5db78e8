"""Signing secrets encrypted at rest: Fernet (``cryptography``) under a key from the settings.

An endpoint's secret must be kept whole to sign (Standard Webhooks is HMAC with the receiver's
copy), so it cannot be hashed; it is stored encrypted instead, and decrypted only when the row
is loaded to sign or rotate. The key is ``WEBHOOK_SECRET_KEY`` run through HKDF-SHA256; when that
is unset, ``SECRET_KEY`` is (so a database dump alone does not reveal the secrets). Rows
encrypted under an older key in ``WEBHOOK_SECRET_KEY_FALLBACKS`` (and Django's
``SECRET_KEY_FALLBACKS`` while the key comes from ``SECRET_KEY``) still decrypt, and are
re-encrypted under the current key the next time they are saved. See ADR 0020.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_INFO = b"orders webhook signing secrets v1"


class SecretUndecryptable(ImproperlyConfigured):
    """A stored secret no configured key opens: the key setting changed without a fallback."""


def _fernet_key(material: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material.encode())
    return base64.urlsafe_b64encode(derived)


def _key_material() -> list[str]:
    """The current key's material first, then the older ones that may still open a row."""
    if settings.WEBHOOK_SECRET_KEY:
        return [settings.WEBHOOK_SECRET_KEY, *settings.WEBHOOK_SECRET_KEY_FALLBACKS]
    return [settings.SECRET_KEY, *settings.WEBHOOK_SECRET_KEY_FALLBACKS, *settings.SECRET_KEY_FALLBACKS]


@cache
def _cipher(material: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(item)) for item in material])


def encrypt_secret(secret: str) -> str:
    """Return ``secret`` encrypted under the current key (Fernet token text); "" stays ""."""
    if not secret:
        return ""
    return _cipher(tuple(_key_material())).encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    """Return the secret inside a stored token; "" stays ""."""
    if not token:
        return ""
    try:
        return _cipher(tuple(_key_material())).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUndecryptable(
            "a webhook signing secret does not decrypt with WEBHOOK_SECRET_KEY (or SECRET_KEY) or its fallbacks"
        ) from None
