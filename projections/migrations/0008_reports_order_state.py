"""The reports projection's per-order record of what it has counted (see projections/reports.py).

``lines`` is JSON text as in ``sales_order_state``: a list of ``[sku, product_name, quantity,
line_total]``. The DDL uses only types PostgreSQL and SQLite both accept.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projections", "0007_consumer_timeline"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE reports_order_state ("
            " order_id BIGINT NOT NULL PRIMARY KEY, version INTEGER NOT NULL, customer_id BIGINT NOT NULL,"
            " day DATE NOT NULL, status VARCHAR(16) NOT NULL, total BIGINT NOT NULL, discount BIGINT NOT NULL,"
            " lines TEXT NOT NULL)",
            "DROP TABLE reports_order_state",
            state_operations=[
                migrations.CreateModel(
                    name="ReportsOrderState",
                    fields=[
                        ("order_id", models.BigIntegerField(primary_key=True, serialize=False)),
                        ("version", models.IntegerField()),
                        ("customer_id", models.BigIntegerField()),
                        ("day", models.DateField()),
                        ("status", models.CharField(max_length=16)),
                        ("total", models.BigIntegerField()),
                        ("discount", models.BigIntegerField()),
                        ("lines", models.TextField()),
                    ],
                    options={
                        "db_table": "reports_order_state",
                        "managed": False,
                    },
                ),
            ],
        ),
    ]
