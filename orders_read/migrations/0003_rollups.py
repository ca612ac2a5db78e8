"""The reports projection's rollup tables (projections/reports.py, ADR 0021), hand-written DDL.

Same rules as 0001: type names PostgreSQL and SQLite both accept, ``NOT NULL`` on every key
column. Each table's primary key leads with its period, so a report reads one key range (or a
short list of periods) per table. The models are unmanaged; the ``CreateModel`` operations below
only tell the migration state about them.
"""

from django.db import migrations, models

ROLLUP_DDL = [
    "CREATE TABLE order_status_day (day DATE NOT NULL, status VARCHAR(16) NOT NULL, orders INTEGER NOT NULL,"
    " PRIMARY KEY (day, status))",
    "CREATE TABLE order_status_month (month DATE NOT NULL, status VARCHAR(16) NOT NULL, orders INTEGER NOT NULL,"
    " PRIMARY KEY (month, status))",
    "CREATE TABLE monthly_sales (month DATE NOT NULL PRIMARY KEY, orders INTEGER NOT NULL, revenue BIGINT NOT NULL,"
    " cancellations INTEGER NOT NULL, discount_total BIGINT NOT NULL)",
    "CREATE TABLE product_sales_month (month DATE NOT NULL, sku VARCHAR(64) NOT NULL,"
    " product_name VARCHAR(200) NOT NULL, units INTEGER NOT NULL, revenue BIGINT NOT NULL, PRIMARY KEY (month, sku))",
    "CREATE TABLE customer_sales_month (month DATE NOT NULL, customer_id BIGINT NOT NULL, orders INTEGER NOT NULL,"
    " revenue BIGINT NOT NULL, PRIMARY KEY (month, customer_id))",
    "CREATE TABLE customer_sales_year (year DATE NOT NULL, customer_id BIGINT NOT NULL, orders INTEGER NOT NULL,"
    " revenue BIGINT NOT NULL, PRIMARY KEY (year, customer_id))",
]
ROLLUP_TABLES = (
    "order_status_day", "order_status_month", "monthly_sales", "product_sales_month", "customer_sales_month",
    "customer_sales_year",
)  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("orders_read", "0002_permissions"),
    ]

    operations = [
        migrations.RunSQL(
            ROLLUP_DDL,
            reverse_sql=[f"DROP TABLE {table}" for table in ROLLUP_TABLES],
            state_operations=[
                migrations.CreateModel(
                    name="CustomerSalesMonth",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "month", "customer_id", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("month", models.DateField()),
                        ("customer_id", models.BigIntegerField()),
                        ("orders", models.IntegerField()),
                        ("revenue", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "customer sales by month",
                        "verbose_name_plural": "customer sales by month",
                        "db_table": "customer_sales_month",
                        "managed": False,
                    },
                ),
                migrations.CreateModel(
                    name="CustomerSalesYear",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "year", "customer_id", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("year", models.DateField()),
                        ("customer_id", models.BigIntegerField()),
                        ("orders", models.IntegerField()),
                        ("revenue", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "customer sales by year",
                        "verbose_name_plural": "customer sales by year",
                        "db_table": "customer_sales_year",
                        "managed": False,
                    },
                ),
                migrations.CreateModel(
                    name="MonthlySales",
                    fields=[
                        ("month", models.DateField(primary_key=True, serialize=False)),
                        ("orders", models.IntegerField()),
                        ("revenue", models.BigIntegerField()),
                        ("cancellations", models.IntegerField()),
                        ("discount_total", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "monthly sales",
                        "verbose_name_plural": "monthly sales",
                        "db_table": "monthly_sales",
                        "managed": False,
                    },
                ),
                migrations.CreateModel(
                    name="OrderStatusDay",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "day", "status", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("day", models.DateField()),
                        ("status", models.CharField(max_length=16)),
                        ("orders", models.IntegerField()),
                    ],
                    options={
                        "verbose_name": "orders by day and status",
                        "verbose_name_plural": "orders by day and status",
                        "db_table": "order_status_day",
                        "managed": False,
                    },
                ),
                migrations.CreateModel(
                    name="OrderStatusMonth",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "month", "status", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("month", models.DateField()),
                        ("status", models.CharField(max_length=16)),
                        ("orders", models.IntegerField()),
                    ],
                    options={
                        "verbose_name": "orders by month and status",
                        "verbose_name_plural": "orders by month and status",
                        "db_table": "order_status_month",
                        "managed": False,
                    },
                ),
                migrations.CreateModel(
                    name="ProductSalesMonth",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "month", "sku", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("month", models.DateField()),
                        ("sku", models.CharField(max_length=64)),
                        ("product_name", models.CharField(max_length=200)),
                        ("units", models.IntegerField()),
                        ("revenue", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "product sales by month",
                        "verbose_name_plural": "product sales by month",
                        "db_table": "product_sales_month",
                        "managed": False,
                    },
                ),
            ],
        ),
    ]
