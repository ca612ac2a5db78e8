"""The demo login (``ensure_demo_user``): DEBUG only, and never a password or a user it did not make."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def run(**options) -> str:
    out = StringIO()
    call_command("ensure_demo_user", stdout=out, **options)
    return out.getvalue()


def printed_token(output: str) -> str:
    return re.search(r"Authorization: Token ([0-9a-f]{64})", output).group(1)


def status_with(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/projections/").status_code


def test_refuses_unless_debug_is_on_and_creates_nothing():
    with pytest.raises(CommandError, match="runs only with DEBUG on"):
        run()
    assert not get_user_model().objects.filter(username="demo").exists()


@override_settings(DEBUG=True)
def test_creates_the_demo_superuser_and_a_working_token_then_replaces_the_token():
    first = run()
    user = get_user_model().objects.get(username="demo")
    assert user.is_staff and user.is_superuser and user.is_active and user.check_password("demo-password")
    assert "http://127.0.0.1:8000/admin/" in first and "'demo'" in first and "'demo-password'" in first
    assert status_with(printed_token(first)) == 200

    user.is_staff = False
    user.save()
    second = run()

    assert get_user_model().objects.get(username="demo").is_staff  # still the demo password: ours to fix
    assert printed_token(second) != printed_token(first)
    assert status_with(printed_token(second)) == 200
    assert status_with(printed_token(first)) == 401  # the previous run's token is revoked


@override_settings(DEBUG=True)
def test_never_resets_a_password_it_did_not_set():
    run()
    user = get_user_model().objects.get(username="demo")
    user.set_password("changed-in-the-admin-42")
    user.is_superuser = False
    user.save()

    output = run()

    user = get_user_model().objects.get(username="demo")
    assert user.check_password("changed-in-the-admin-42") and not user.is_superuser
    assert "left unchanged" in output and "Authorization" not in output


@override_settings(DEBUG=True)
def test_leaves_a_user_it_did_not_create_alone():
    get_user_model().objects.create_user(username="alice", password="alice-own-password-1")

    output = run(username="alice", password="s3cret-pass")

    alice = get_user_model().objects.get(username="alice")
    assert alice.check_password("alice-own-password-1") and not alice.is_superuser and not alice.is_staff
    assert "left unchanged" in output


@override_settings(DEBUG=True)
def test_accepts_other_credentials_for_a_new_user():
    run(username="bob", password="s3cret-pass")

    bob = get_user_model().objects.get(username="bob")
    assert bob.is_superuser and bob.check_password("s3cret-pass")
