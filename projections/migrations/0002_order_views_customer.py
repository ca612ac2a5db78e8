"""The order_views projection's own record of customer names (see projections/order_views.py)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projections", "0001_checkpoint")]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE order_views_customer ("
            " customer_id BIGINT PRIMARY KEY, name VARCHAR(200) NOT NULL, version INTEGER NOT NULL)",
            "DROP TABLE order_views_customer",
        ),
    ]
