"""Signing secrets at rest: only Fernet tokens in the database; older keys still open rows; the migration."""

import pytest
from django.core.management import call_command
from django.db import connections

from config.databases import read_alias
from tests.webhooks.helpers import create_endpoint, webhook_client
from webhooks.models import WebhookEndpoint
from webhooks.secrets_at_rest import SecretUndecryptable, decrypt_secret, encrypt_secret

pytestmark = pytest.mark.django_db(transaction=True)


def stored_row(endpoint_id: int) -> tuple[str, str, str]:
    """The endpoint's row as the database holds it: (whole row as text, secret, previous_secret)."""
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(e)::text, secret, previous_secret FROM webhook_endpoint e WHERE id = %s", [endpoint_id]
        )
        return cursor.fetchone()


def test_neither_the_secret_nor_the_rotated_one_is_stored_in_plain(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    client = webhook_client()
    created = create_endpoint(client, "http://127.0.0.1:9/hooks")
    rotated = client.post(f"/api/webhooks/{created['webhook_id']}/rotate-secret/").json()["secret"]

    row, secret, previous = stored_row(created["webhook_id"])
    for plain in (created["secret"], rotated):
        assert plain.removeprefix("whsec_") not in row
    assert decrypt_secret(secret) == rotated and decrypt_secret(previous) == created["secret"]
    endpoint = WebhookEndpoint.objects.get(pk=created["webhook_id"])
    assert (endpoint.secret, endpoint.previous_secret) == (rotated, created["secret"]), "the model signs with plain"


def test_rows_under_an_older_key_open_through_the_fallback_and_are_re_encrypted_on_save(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    created = create_endpoint(webhook_client(), "http://127.0.0.1:9/hooks")
    settings.WEBHOOK_SECRET_KEY = "a-new-webhook-secret-key"
    with pytest.raises(SecretUndecryptable):
        WebhookEndpoint.objects.get(pk=created["webhook_id"])

    settings.WEBHOOK_SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]  # what the rows were written under
    endpoint = WebhookEndpoint.objects.get(pk=created["webhook_id"])
    assert endpoint.secret == created["secret"]
    endpoint.save()
    settings.WEBHOOK_SECRET_KEY_FALLBACKS = []
    assert WebhookEndpoint.objects.get(pk=created["webhook_id"]).secret == created["secret"]


def test_the_migration_encrypts_the_secrets_already_stored():
    using = read_alias()
    call_command("migrate", "webhooks", "0001", database=using, verbosity=0)
    try:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "INSERT INTO webhook_endpoint (url, event_types, description, enabled, secret, previous_secret, "
                "disabled_reason, created_at, updated_at) VALUES ('https://example.com/h', '[]', '', true, "
                "'whsec_plain-current', 'whsec_plain-previous', '', now(), now()) RETURNING id"
            )
            endpoint_id = cursor.fetchone()[0]
    finally:
        call_command("migrate", "webhooks", database=using, verbosity=0)
    row, secret, previous = stored_row(endpoint_id)
    assert "plain-current" not in row and "plain-previous" not in row
    assert (decrypt_secret(secret), decrypt_secret(previous)) == ("whsec_plain-current", "whsec_plain-previous")

    call_command("migrate", "webhooks", "0001", database=using, verbosity=0)  # and back: plain again
    try:
        assert stored_row(endpoint_id)[1:] == ("whsec_plain-current", "whsec_plain-previous")
    finally:
        call_command("migrate", "webhooks", database=using, verbosity=0)


def test_an_empty_secret_stays_empty_and_tokens_differ_each_time():
    assert encrypt_secret("") == "" and decrypt_secret("") == ""
    assert encrypt_secret("whsec_x") != encrypt_secret("whsec_x"), "a fresh IV every time"
