"""Make sure a staff login exists for the demo, so ``make run`` can print how to sign in.

Idempotent: the first run creates the superuser, later runs reset its password and flags, so
the printed credentials always work even if someone changed them in the admin. It also prints
the user's REST API token (DRF's ``authtoken``; created on first use, then kept).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

ADMIN_URL = "http://127.0.0.1:8000/admin/"
API_URL = "http://127.0.0.1:8000/api/"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # a well-known demo credential; never run this command in production


class Command(BaseCommand):
    help = "Create (or reset the password of) the demo staff superuser and print how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=DEMO_USERNAME, help=f"default {DEMO_USERNAME!r}")
        parser.add_argument("--password", default=DEMO_PASSWORD, help=f"default {DEMO_PASSWORD!r}")

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        created = ensure_superuser(username=username, password=password)
        verb = "Created" if created else "Reset"
        self.stdout.write(f"{verb} demo login: {ADMIN_URL} user {username!r} password {password!r}")
        token, _ = Token.objects.get_or_create(user=get_user_model()._default_manager.get_by_natural_key(username))
        self.stdout.write(f"API: {API_URL} with header 'Authorization: Token {token.key}' (docs: {API_URL}docs/)")


@transaction.atomic
def ensure_superuser(*, username: str, password: str) -> bool:
    """Make ``username`` an active staff superuser with ``password``; return whether it was created."""
    user_model = get_user_model()
    user, created = user_model._default_manager.get_or_create(**{user_model.USERNAME_FIELD: username})
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return created
