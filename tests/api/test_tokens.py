"""Issuing API tokens: DRF's ``drf_create_token`` command and its admin screen, as the README says."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from config.rights import VIEW_REPORTS
from tests.api.conftest import make_user

pytestmark = pytest.mark.django_db


def _token_from(output: str) -> str:
    return re.search(r"Generated token ([0-9a-f]{40})", output).group(1)


def test_drf_create_token_issues_a_token_that_authenticates_as_the_user():
    user = make_user(VIEW_REPORTS)
    out = StringIO()
    call_command("drf_create_token", user.get_username(), stdout=out)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token_from(out.getvalue())}")
    response = client.get("/api/projections/")

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["order_views", "sales"]


def test_a_regenerated_token_replaces_the_old_one():
    user = make_user(VIEW_REPORTS)
    first, second = StringIO(), StringIO()
    call_command("drf_create_token", user.get_username(), stdout=first)
    call_command("drf_create_token", user.get_username(), "--reset", stdout=second)

    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Token {_token_from(first.getvalue())}")
    new = APIClient()
    new.credentials(HTTP_AUTHORIZATION=f"Token {_token_from(second.getvalue())}")

    assert old.get("/api/projections/").json()["error"]["code"] == "authentication_failed"
    assert new.get("/api/projections/").status_code == 200


def test_staff_can_issue_tokens_in_the_admin(admin_client):
    user = make_user(VIEW_REPORTS)

    page = admin_client.get("/admin/authtoken/tokenproxy/add/")
    response = admin_client.post("/admin/authtoken/tokenproxy/add/", {"user": user.pk})

    assert page.status_code == 200
    assert response.status_code == 302
    assert user.auth_token.key
