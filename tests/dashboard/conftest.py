"""Dashboard fixtures: users holding exactly the rights a test needs, logged-in clients, and
read tables that start empty.

Django's flush skips the unmanaged read tables, so every test empties them first. Tests that
drain real events need committed transactions (the drain reads only events below every open
transaction), so they use ``projected`` and ``drain_to_head``; tests that put rows straight
into the read tables use ``read_tables`` inside the usual rolled-back transaction.
"""

import itertools
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from config.rights import VIEW_REPORTS
from projections.runtime.loop import drain_all
from projections.runtime.registry import consumers
from projections.runtime.watermark import watermark
from tests.read_tables import empty_read_tables

_usernames = itertools.count(1)
PASSWORD = "dashboard-pw-123"


def make_user(*rights: str, staff: bool = False):
    user = get_user_model().objects.create_user(username=f"dash{next(_usernames)}", password=PASSWORD)
    user.is_staff = staff
    user.save()
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def read_tables(db):
    """Empty read tables inside the test's transaction (rolled back after it)."""
    empty_read_tables()


@pytest.fixture
def projected(transactional_db):
    """A database of committed transactions whose read tables start, and are left, empty."""
    empty_read_tables()
    yield
    empty_read_tables()


@pytest.fixture
def drain_to_head(projected):
    """Drain until every projection has applied the whole outbox.

    The drain reads only events below the oldest transaction open anywhere on the PostgreSQL
    cluster, and other suites may hold one for a moment, so one pass may stop short.
    """

    def drain(timeout: float = 30.0) -> int:
        names = tuple(consumers())
        deadline = time.monotonic() + timeout
        while True:
            drain_all()
            head = watermark(())
            if watermark(names) >= head:
                return head
            if time.monotonic() > deadline:
                pytest.fail(f"projections did not reach outbox head {head} within {timeout} s")
            time.sleep(0.1)

    return drain


@pytest.fixture
def viewer(db):
    """Holds only orders_read.view_reports: not staff."""
    return make_user(VIEW_REPORTS)


@pytest.fixture
def viewer_client(viewer) -> Client:
    return logged_in(viewer)


@pytest.fixture
def staff_client(db) -> Client:
    """Staff without any particular right."""
    return logged_in(make_user(staff=True))
