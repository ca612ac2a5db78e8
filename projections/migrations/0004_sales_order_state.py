"""The sales projection's per-order record of what it has counted (see projections/sales.py).

``lines`` is JSON text: a list of ``[sku, product_name, quantity, line_total]``, the order's
lines as it has them now. The DDL uses only types PostgreSQL and SQLite both accept.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projections", "0003_shared_cache_table")]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE sales_order_state ("
            " order_id BIGINT NOT NULL PRIMARY KEY, version INTEGER NOT NULL, customer_id BIGINT NOT NULL,"
            " day DATE NOT NULL, placed_at TIMESTAMP WITH TIME ZONE NOT NULL, cancelled BOOLEAN NOT NULL,"
            " total BIGINT NOT NULL, discount BIGINT NOT NULL, lines TEXT NOT NULL)",
            "DROP TABLE sales_order_state",
        ),
    ]
