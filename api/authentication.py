"""Token authentication: one SELECT finds the token's digest joined with its user (ADR 0022).

Tokens are django-rest-knox's (a random 64-hex string, stored as its SHA-512 digest in
``api.ApiToken``). Knox's own ``TokenAuthentication`` filters on the token's prefix, then loads
the user and sweeps the user's other tokens: several statements per request. The digest is the
table's primary key, so hashing the presented token first makes the check one indexed lookup
joined with the user, raw so the ORM compiles nothing per request (docs/benchmarks.md).

The last-used time is written at most once per ``LAST_USED_RESOLUTION``: a read stays a read.
"""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

from api.models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)
# Longer than any token this API gives out (64 characters), short enough to hash nothing big.
MAX_TOKEN_LENGTH = 128


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if len(text) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        digest = hash_token(text)
        user_meta, token_meta = get_user_model()._meta, ApiToken._meta
        users = get_user_model().objects.raw(
            "SELECT u.*, t.token_key AS token_key, t.created AS token_created, t.expiry AS token_expiry, "
            f"t.name AS token_name, t.last_used_at AS token_last_used_at FROM {token_meta.db_table} t "
            f"JOIN {user_meta.db_table} u ON u.{user_meta.pk.column} = t.user_id WHERE t.digest = %s",
            [digest],
        )
        user = next(iter(users), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        user.token_created, user.token_expiry, user.token_last_used_at = (
            _aware(user.token_created),
            _aware(user.token_expiry),
            _aware(user.token_last_used_at),
        )
        if user.token_expiry is not None and user.token_expiry <= now:
            raise exceptions.AuthenticationFailed(_("Token expired."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        api_token = ApiToken(
            digest=digest,
            token_key=user.token_key,
            user=user,
            created=user.token_created,
            expiry=user.token_expiry,
            name=user.token_name,
            last_used_at=user.token_last_used_at,
        )
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(digest=digest).update(last_used_at=now)
            api_token.last_used_at = now
        return user, api_token


def _aware(value: datetime | str | None) -> datetime | None:
    """Return a raw query's extra datetime column as an aware datetime (SQLite gives UTC text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Document the token in the schema as before: ``Authorization: Token <token>``."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
