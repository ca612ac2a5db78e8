"""What API tests check about every answer: the error shape, and that a refusal wrote nothing."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from knox.crypto import hash_token
from rest_framework.test import APIClient

from api.models import ApiToken


def outbox_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM outbox_event")
        return cursor.fetchone()[0]


@contextmanager
def nothing_written() -> Iterator[None]:
    before = outbox_count()
    yield
    assert outbox_count() == before, "a failed request wrote to the outbox"


def assert_error(response, status: int, code: str, details=None) -> dict:
    """Check the one error shape; compare ``details`` whole when given, else just its type."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    if details is not None:
        assert body["error"]["details"] == details
    return body["error"]["details"]


def assert_field_errors(response, fields: set[str]) -> None:
    details = assert_error(response, 400, "validation_error")
    assert set(details) == fields
    assert all(isinstance(messages, list) and messages for messages in details.values())
    assert all(isinstance(message, str) for messages in details.values() for message in messages)


def user_of(client: APIClient):
    key = client._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")
    return ApiToken.objects.select_related("user").get(digest=hash_token(key)).user


def actor(user) -> str:
    """How the outbox names the user who acted."""
    return f"user:{user.pk}:{user.username}"
