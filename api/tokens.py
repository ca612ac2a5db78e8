"""Issue API tokens, and adopt the plain-text tokens of DRF's ``authtoken`` as digests (ADR 0022)."""

from datetime import timedelta

from django.db.backends.base.base import BaseDatabaseWrapper
from knox.crypto import hash_token
from knox.settings import CONSTANTS

from api.models import ApiToken

# The name a token adopted from DRF's authtoken table carries, so staff can find and replace it.
ADOPTED_NAME = "adopted from authtoken"
LEGACY_TABLE = "authtoken_token"


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
