"""An endpoint's owner: whose rights decide whether its payloads carry contact data (ADR 0031).

Existing endpoints get no owner, so they receive no contact data until a user holding the
contacts right saves them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0003_delivery_leases_and_replays")]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="owner_id",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
    ]
