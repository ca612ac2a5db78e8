"""The W3C trace context of the command that wrote each event, null unless tracing is on (ADR 0024).

A nullable column without a default: adding it rewrites nothing (PostgreSQL and SQLite alike).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders_write", "0006_idempotency_scope_by_pk")]

    operations = [
        migrations.AddField(
            model_name="outboxevent",
            name="traceparent",
            field=models.CharField(blank=True, max_length=55, null=True),
        ),
    ]
