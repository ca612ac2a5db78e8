"""Staff clients for the admin tests: a logged-in user holding exactly the given rights."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

_usernames = itertools.count(1)


def login(*rights: str, staff: bool = True) -> Client:
    """Return a client logged in as a (staff) user holding exactly ``rights`` (``app_label.codename``)."""
    user = get_user_model().objects.create_user(username=f"staff{next(_usernames)}", is_staff=staff)
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client
