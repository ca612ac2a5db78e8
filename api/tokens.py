"""Issue API tokens, and adopt the plain-text tokens of DRF's ``authtoken`` as digests (ADR 0022).

A token carries every right of its user, so issuing one for someone else is a way to act with
their rights: the rule in ``token_issue_refusal`` (ADR 0031) decides who may do it.
"""

from datetime import timedelta

from django.db.backends.base.base import BaseDatabaseWrapper
from knox.crypto import hash_token
from knox.settings import CONSTANTS

from api.models import ApiToken

# The name a token adopted from DRF's authtoken table carries, so staff can find and replace it.
ADOPTED_NAME = "adopted from authtoken"
LEGACY_TABLE = "authtoken_token"


def rights_of(user) -> frozenset[str] | None:
    """Return ``user``'s rights (``app_label.codename``), or None for "every right" (an active superuser)."""
    if user.is_active and user.is_superuser:
        return None
    return frozenset(user.get_all_permissions()) if user.is_active else frozenset()


def token_issue_refusal(*, issuer, user) -> str | None:
    """Say why ``issuer`` may not issue a token acting as ``user``, or None when they may.

    Only a superuser issues tokens for other people, and nobody issues one for a user holding a
    right the issuer lacks (a superuser's token needs a superuser). Staff issue their own tokens.
    """
    if issuer.pk != user.pk and not (issuer.is_active and issuer.is_superuser):
        return "you may issue API tokens only for yourself"
    issuer_rights, user_rights = rights_of(issuer), rights_of(user)
    if issuer_rights is not None and (user_rights is None or not user_rights <= issuer_rights):
        return "that user holds rights you do not hold"
    return None


def api_token_issue(*, user, name: str = "", expires_in: timedelta | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the token, which nothing stores or shows again."""
    return ApiToken.objects.create(user=user, expiry=expires_in, name=name)


def adopt_legacy_tokens(connection: BaseDatabaseWrapper, token_model=ApiToken) -> int:
    """Store a digest of every DRF ``authtoken`` key, then empty that table; return how many.

    The old keys keep working (the digest of the key is what authentication looks up) with no
    expiry, and no key stays in plain text. Run by the migration ``api.0001``; without the legacy
    table (a new installation) it does nothing.
    """
    if LEGACY_TABLE not in connection.introspection.table_names():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {connection.ops.quote_name(LEGACY_TABLE)}")
        rows = cursor.fetchall()
        token_model.objects.using(connection.alias).bulk_create(
            [
                token_model(
                    digest=hash_token(key),
                    token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
                    user_id=user_id,
                    created=created,
                    expiry=None,
                    name=ADOPTED_NAME,
                )
                for key, user_id, created in rows
            ],
            ignore_conflicts=True,
        )
        for key, _user_id, created in rows:  # bulk_create stamps auto_now_add; keep the real dates
            token_model.objects.using(connection.alias).filter(digest=hash_token(key)).update(created=created)
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(LEGACY_TABLE)}")
    return len(rows)
