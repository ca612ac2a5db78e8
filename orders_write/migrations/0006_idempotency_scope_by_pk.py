"""Idempotency keys are scoped by the user's primary key only (``user:<pk>``), not also by the
username; existing records are rewritten. An index on ``created_at`` serves the purge (ADR 0022)."""

from django.db import migrations, models


def scope_by_primary_key(apps, schema_editor):
    records = apps.get_model("orders_write", "IdempotencyRecord").objects.using(schema_editor.connection.alias)
    # Newest first: should a user have used one key under two usernames, the newest record wins.
    for record in records.filter(scope__startswith="user:").order_by("-created_at", "-pk").iterator():
        kind, pk, *_name = record.scope.split(":", 2)
        scope = f"{kind}:{pk}"
        if scope == record.scope:
            continue
        if records.filter(scope=scope, key=record.key).exists():
            records.filter(pk=record.pk).delete()
        else:
            records.filter(pk=record.pk).update(scope=scope)


class Migration(migrations.Migration):
    dependencies = [
        ("orders_write", "0005_outbox_timeline"),
    ]

    operations = [
        migrations.RunPython(scope_by_primary_key, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="idempotencyrecord",
            index=models.Index(fields=["created_at"], name="idempotency_created_at"),
        ),
    ]
