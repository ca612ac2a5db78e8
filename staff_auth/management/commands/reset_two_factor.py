"""``manage.py reset_two_factor USERNAME``: delete the user's TOTP devices (ADR 0030).

The way back in for a superuser who lost their device (or the only staff who could reset it in
the admin): whoever runs commands on the server already holds more than the admin grants. The
user's next login asks for a new device (when the policy requires one) or none.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Delete USERNAME's two-factor devices, so they enrol a new one at their next login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        try:
            user = get_user_model()._default_manager.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        deleted, _ = TOTPDevice.objects.filter(user=user).delete()
        self.stdout.write(f"Deleted {deleted} two-factor device(s) of {username!r}: they enrol anew at next login.")
