"""Token authentication that looks the token and its user up with one raw statement.

Every API request authenticates, and DRF's ``TokenAuthentication`` has the ORM compile a
``select_related`` query each time: under load that compile was a fifth of a command's CPU in
gunicorn (docs/benchmarks.md). The rules are DRF's own: an unknown key or an inactive user is
refused with the same messages; only the lookup is cheaper.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        user_meta, token_meta = get_user_model()._meta, Token._meta
        users = get_user_model().objects.raw(
            f"SELECT u.*, t.created AS token_created FROM {token_meta.db_table} t "
            f'JOIN {user_meta.db_table} u ON u.{user_meta.pk.column} = t.user_id WHERE t."key" = %s',
            [key],
        )
        user = next(iter(users), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user, created=user.token_created)
