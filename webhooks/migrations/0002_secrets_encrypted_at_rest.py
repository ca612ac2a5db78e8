"""Signing secrets encrypted at rest (ADR 0020): the columns become text and every stored secret a Fernet token."""

from django.db import migrations

import webhooks.models
from webhooks.secrets_at_rest import decrypt_secret, encrypt_secret


def _rewrite(schema_editor, convert) -> None:
    """Rewrite both secret columns of every endpoint with ``convert`` (raw: the model would convert too)."""
    connection = schema_editor.connection
    table = connection.ops.quote_name("webhook_endpoint")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret, previous_secret FROM {table}")
        rows = cursor.fetchall()
        for pk, *values in rows:
            cursor.execute(
                f"UPDATE {table} SET secret = %s, previous_secret = %s WHERE id = %s",
                [*(convert(value) for value in values), pk],
            )


def encrypt_stored(apps, schema_editor) -> None:
    _rewrite(schema_editor, encrypt_secret)


def decrypt_stored(apps, schema_editor) -> None:
    _rewrite(schema_editor, decrypt_secret)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=webhooks.models.EncryptedSecretField(editable=False),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="previous_secret",
            field=webhooks.models.EncryptedSecretField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(encrypt_stored, decrypt_stored),
    ]
