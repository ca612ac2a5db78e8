"""Make sure a staff login exists for the demo, so ``make run`` can print how to sign in.

It makes a login with a well-known password, so it runs only with ``DEBUG`` on (``make run``
sets it). The first run creates the superuser; a later run finds it and, as long as it still has
the demo password, makes sure it is active staff. A password it did not set (changed in the
admin, or a user it did not create) is never reset, and such a user is left as it is (ADR 0022).

Each run prints a new REST API token for the user and revokes the one the previous run printed:
only digests are stored, so an old token cannot be shown again.
"""

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

ADMIN_URL = "http://127.0.0.1:8000/admin/"
API_URL = "http://127.0.0.1:8000/api/"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # a well-known demo credential: hence DEBUG only
DEMO_TOKEN_NAME = "demo (ensure_demo_user)"


class Command(BaseCommand):
    help = "Create the demo staff superuser (DEBUG only) and print how to log in, with a fresh API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=DEMO_USERNAME, help=f"default {DEMO_USERNAME!r}")
        parser.add_argument("--password", default=DEMO_PASSWORD, help=f"default {DEMO_PASSWORD!r}")

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "ensure_demo_user makes a login with a well-known password, so it runs only with DEBUG on "
                "(make run sets DEBUG=true); create real users with manage.py createsuperuser"
            )
        state = ensure_superuser(username=username, password=password)
        if state == "foreign":
            self.stdout.write(
                f"User {username!r} exists with a password this command did not set: left unchanged "
                f"(log in at {ADMIN_URL} with your own password; manage.py create_api_token {username} for a token)."
            )
            return
        verb = "Created" if state == "created" else "Demo"
        self.stdout.write(f"{verb} demo login: {ADMIN_URL} user {username!r} password {password!r}")
        token = replace_demo_token(username=username)
        self.stdout.write(
            f"API: {API_URL} with header 'Authorization: Token {token}' (docs: {API_URL}docs/; "
            "a new token each run, the previous one is revoked)"
        )


@transaction.atomic
def ensure_superuser(*, username: str, password: str) -> str:
    """Create ``username`` ("created"), or keep the demo login active staff ("kept"); else "foreign"."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    if user is None:
        user_model._default_manager.create_superuser(**{user_model.USERNAME_FIELD: username}, password=password)
        return "created"
    if not user.check_password(password):
        return "foreign"
    user.is_active = user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_active", "is_staff", "is_superuser"])
    return "kept"


@transaction.atomic
def replace_demo_token(*, username: str) -> str:
    """Revoke the demo token this command issued before, issue a new one and return it."""
    # Through the app registry: the write side's command must not import the API package.
    token_model = apps.get_model(settings.KNOX_TOKEN_MODEL)
    user = get_user_model()._default_manager.get_by_natural_key(username)
    token_model.objects.filter(user=user, name=DEMO_TOKEN_NAME).delete()
    _row, token = token_model.objects.create(
        user=user, expiry=timedelta(days=settings.API_TOKEN_EXPIRY_DAYS), name=DEMO_TOKEN_NAME
    )
    return token
