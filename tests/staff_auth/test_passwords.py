"""Passwords are at least 12 characters (ASVS 2.1.1; ADR 0030), wherever the admin sets one."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.staff_auth.logins import PASSWORD, make_user, password_login

pytestmark = pytest.mark.django_db

ELEVEN = "Xq7#mLp2$vR"
TWELVE = "Xq7#mLp2$vR9"
TOO_SHORT = b"This password is too short. It must contain at least 12 characters."


def test_staff_cannot_give_another_user_an_11_character_password(admin_client):
    user = make_user()
    page = f"/admin/auth/user/{user.pk}/password/"

    refused = admin_client.post(page, {"password1": ELEVEN, "password2": ELEVEN, "usable_password": "true"})

    assert refused.status_code == 200 and TOO_SHORT in refused.content
    assert get_user_model().objects.get(pk=user.pk).check_password(PASSWORD)
    accepted = admin_client.post(page, {"password1": TWELVE, "password2": TWELVE, "usable_password": "true"})
    assert accepted.status_code == 302 and get_user_model().objects.get(pk=user.pk).check_password(TWELVE)


def test_a_user_cannot_change_their_own_password_to_11_characters():
    user = make_user()
    client = password_login(user)
    form = {"old_password": PASSWORD, "new_password1": ELEVEN, "new_password2": ELEVEN}

    refused = client.post("/admin/password_change/", form)

    assert refused.status_code == 200 and TOO_SHORT in refused.content
    assert get_user_model().objects.get(pk=user.pk).check_password(PASSWORD)


def test_the_validators_createsuperuser_asks_refuse_11_characters_and_accept_12():
    # createsuperuser validates the typed password with validate_password and these settings.
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password(ELEVEN)
    validate_password(TWELVE)
