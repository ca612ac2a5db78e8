"""API fixtures: users holding exactly one right each, and clients authenticated by token.

Query tests need the projections to have run, which needs committed transactions (the drain
reads only events below every open transaction), so they use ``projected``: a transactional
database with the read tables emptied, and ``drain`` to bring them up to date.
"""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.permissions import MANAGE_CATALOG, MANAGE_ORDERS, VIEW_REPORTS
from projections.drain import drain_all
from projections.registry import all_projections

_usernames = itertools.count(1)


def make_user(*rights: str, superuser: bool = False):
    user = get_user_model().objects.create_user(username=f"user{next(_usernames)}", password="pw-unused-123")
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if superuser:
        user.is_superuser = True
        user.save()
    return get_user_model().objects.get(pk=user.pk)  # fresh: no stale permission cache


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def clerk_client(db):
    """May place and change orders (and read them)."""
    return client_for(make_user(MANAGE_ORDERS))


@pytest.fixture
def catalog_client(db):
    """May manage customers and products (and read orders)."""
    return client_for(make_user(MANAGE_CATALOG))


@pytest.fixture
def manager_client(db):
    """May read reports and orders, change nothing."""
    return client_for(make_user(VIEW_REPORTS))


@pytest.fixture
def admin_client_api(db):
    return client_for(make_user(superuser=True))


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def projected(transactional_db):
    """A committed-transactions database whose read tables start empty (Django's flush skips them)."""
    tables = sorted({table for projection in all_projections().values() for table in projection.tables})
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")
    cache.clear()


@pytest.fixture
def drain(projected):
    return drain_all
