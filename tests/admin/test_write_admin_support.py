"""Helpers the write-side admin tests share: staff users with given rights, the outbox, messages.

State is set up through the services (``tests/conftest.py``); what the admin wrote is read
back from the outbox, the audit log every command appends to.
"""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS

_usernames = itertools.count(1)


def staff_user(*rights: str, superuser: bool = False):
    """Create active staff holding exactly ``rights`` (Django permission names)."""
    user = get_user_model().objects.create_user(
        username=f"staff{next(_usernames)}", password="unused-pw-123", is_staff=True, is_superuser=superuser
    )
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def log_in(client, *rights: str, superuser: bool = False):
    user = staff_user(*rights, superuser=superuser)
    client.force_login(user)
    return user


def actor(user) -> str:
    return f"user:{user.pk}:{user.get_username()}"


def outbox() -> list[tuple[str, str]]:
    """Return ``(event_type, actor)`` of every event written so far, in position order."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_type, actor FROM outbox_event ORDER BY position")
        return cursor.fetchall()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_staff_user_holds_exactly_the_rights_given(db):
    """Guard the helper itself: the permission tests depend on it granting nothing more."""
    user = staff_user(MANAGE_CATALOG)
    assert user.has_perm(MANAGE_CATALOG)
    assert not user.has_perm(MANAGE_ORDERS)
