"""``manage.py create_api_token USERNAME [--name N] [--expires-days D]``: print a new token, once.

Only the token is printed (so ``TOKEN=$(manage.py create_api_token ada)`` works); the database
keeps its digest, so this output is the one place it is ever seen (ADR 0022).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.tokens import api_token_issue


def _positive_days(text: str) -> int:
    days = int(text)
    if days < 1:
        raise ValueError(text)
    return days


class Command(BaseCommand):
    help = "Issue an API token for USERNAME and print it (it is shown this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for (shown in the admin)")
        parser.add_argument(
            "--expires-days",
            type=_positive_days,
            default=None,
            help="days the token works (default API_TOKEN_EXPIRY_DAYS; at most API_TOKEN_MAX_EXPIRY_DAYS)",
        )

    def handle(self, *args: Any, username: str, name: str, expires_days: int | None, **options: Any) -> None:
        try:
            user = get_user_model()._default_manager.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive: a token would not authenticate")
        days = expires_days or settings.API_TOKEN_EXPIRY_DAYS
        if days > settings.API_TOKEN_MAX_EXPIRY_DAYS:
            limit = settings.API_TOKEN_MAX_EXPIRY_DAYS
            raise CommandError(f"--expires-days: at most API_TOKEN_MAX_EXPIRY_DAYS ({limit})")
        _token, token = api_token_issue(user=user, name=name[:100], expires_in=timedelta(days=days))
        self.stdout.write(token)
