"""API tokens as digests; DRF authtoken keys (plain text) are adopted as digests, then erased."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def adopt_legacy_tokens(apps, schema_editor):
    from api.tokens import adopt_legacy_tokens

    adopt_legacy_tokens(schema_editor.connection, apps.get_model("api", "ApiToken"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("digest", models.CharField(max_length=128, primary_key=True, serialize=False)),
                ("token_key", models.CharField(db_index=True, max_length=25)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("expiry", models.DateTimeField(blank=True, null=True)),
                (
                    "name",
                    models.CharField(blank=True, help_text="What the token is for (a script, a shop).", max_length=100),
                ),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="auth_token_set",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "db_table": "api_token",
            },
        ),
        migrations.RunPython(adopt_legacy_tokens, migrations.RunPython.noop),
    ]
