"""Index the customer rollups by revenue within each period, for the threshold ranking (ADR 0021).

``rollups.ranked_customers`` reads the best few hundred customers of a month or a year
(``WHERE month = %s ORDER BY revenue DESC LIMIT n``); with these indexes that is the first
``n`` entries of one index range instead of a sort of every customer of the period. The key
ends in ``customer_id`` so the index holds every column that read needs. Plain DDL, as in 0001.
"""

from django.db import migrations

INDEXES = {
    "customer_sales_month_ranking": "customer_sales_month (month, revenue DESC, customer_id)",
    "customer_sales_year_ranking": "customer_sales_year (year, revenue DESC, customer_id)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("orders_read", "0003_rollups"),
    ]

    operations = [
        migrations.RunSQL(
            [f"CREATE INDEX {name} ON {columns}" for name, columns in INDEXES.items()],
            reverse_sql=[f"DROP INDEX {name}" for name in INDEXES],
        ),
    ]
