"""Create the read tables and their indexes with hand-written DDL.

The DDL is written by hand, not generated from the models, so it says exactly which indexes
exist (descending keys for newest-first reads) and runs unchanged on PostgreSQL and SQLite.
Only type names both accept are used. On SQLite, ``BIGINT PRIMARY KEY`` would let NULL in, so
every key column says ``NOT NULL``. The models are unmanaged; ``state_operations`` tells the
migration state about them so ``makemigrations`` finds nothing to do. Which query each index
serves: docs/decisions/0007-read-tables.md.
"""

from django.db import migrations, models

ORDER_SUMMARY = [
    """
    CREATE TABLE order_summary (
        order_id BIGINT NOT NULL PRIMARY KEY,
        customer_id BIGINT NOT NULL,
        customer_name VARCHAR(200) NOT NULL,
        status VARCHAR(16) NOT NULL,
        currency VARCHAR(3) NOT NULL,
        subtotal BIGINT NOT NULL,
        discount BIGINT NOT NULL,
        total BIGINT NOT NULL,
        item_count INTEGER NOT NULL,
        line_count INTEGER NOT NULL,
        last_item VARCHAR(200) NOT NULL,
        tracking_number VARCHAR(64) NOT NULL DEFAULT '',
        version INTEGER NOT NULL,
        placed_at TIMESTAMP WITH TIME ZONE NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL
    )
    """,
    "CREATE INDEX order_summary_customer_recent ON order_summary (customer_id, placed_at DESC, order_id DESC)",
    "CREATE INDEX order_summary_status_recent ON order_summary (status, placed_at DESC, order_id DESC)",
    "CREATE INDEX order_summary_recent ON order_summary (placed_at DESC, order_id DESC)",
]

ORDER_LINE_VIEW = [
    """
    CREATE TABLE order_line_view (
        order_id BIGINT NOT NULL,
        sku VARCHAR(64) NOT NULL,
        product_id BIGINT NOT NULL,
        product_name VARCHAR(200) NOT NULL,
        quantity INTEGER NOT NULL,
        unit_price BIGINT NOT NULL,
        line_total BIGINT NOT NULL,
        PRIMARY KEY (order_id, sku)
    )
    """,
]

CUSTOMER_STATS = [
    """
    CREATE TABLE customer_stats (
        customer_id BIGINT NOT NULL PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        email VARCHAR(254) NOT NULL,
        is_active BOOLEAN NOT NULL,
        order_count INTEGER NOT NULL DEFAULT 0,
        cancelled_count INTEGER NOT NULL DEFAULT 0,
        lifetime_value BIGINT NOT NULL DEFAULT 0,
        last_order_at TIMESTAMP WITH TIME ZONE NULL,
        version INTEGER NOT NULL
    )
    """,
]

DAILY_SALES = [
    """
    CREATE TABLE daily_sales (
        day DATE NOT NULL PRIMARY KEY,
        orders INTEGER NOT NULL,
        revenue BIGINT NOT NULL,
        cancellations INTEGER NOT NULL,
        discount_total BIGINT NOT NULL
    )
    """,
]

PRODUCT_SALES = [
    """
    CREATE TABLE product_sales (
        day DATE NOT NULL,
        sku VARCHAR(64) NOT NULL,
        product_name VARCHAR(200) NOT NULL,
        units INTEGER NOT NULL,
        revenue BIGINT NOT NULL,
        PRIMARY KEY (day, sku)
    )
    """,
]

CUSTOMER_SALES = [
    """
    CREATE TABLE customer_sales (
        day DATE NOT NULL,
        customer_id BIGINT NOT NULL,
        orders INTEGER NOT NULL,
        revenue BIGINT NOT NULL,
        PRIMARY KEY (day, customer_id)
    )
    """,
]

UNMANAGED = {"managed": False}


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.RunSQL(
            ORDER_SUMMARY,
            reverse_sql=["DROP TABLE order_summary"],
            state_operations=[
                migrations.CreateModel(
                    name="OrderSummary",
                    fields=[
                        ("order_id", models.BigIntegerField(primary_key=True, serialize=False)),
                        ("customer_id", models.BigIntegerField()),
                        ("customer_name", models.CharField(max_length=200)),
                        ("status", models.CharField(max_length=16)),
                        ("currency", models.CharField(max_length=3)),
                        ("subtotal", models.BigIntegerField()),
                        ("discount", models.BigIntegerField()),
                        ("total", models.BigIntegerField()),
                        ("item_count", models.IntegerField()),
                        ("line_count", models.IntegerField()),
                        (
                            "last_item",
                            models.CharField(help_text="Product name of the most recently added line.", max_length=200),
                        ),
                        ("tracking_number", models.CharField(blank=True, default="", max_length=64)),
                        ("version", models.IntegerField()),
                        ("placed_at", models.DateTimeField()),
                        ("updated_at", models.DateTimeField()),
                    ],
                    options={
                        "verbose_name": "order summary",
                        "verbose_name_plural": "order summaries",
                        "db_table": "order_summary",
                        **UNMANAGED,
                    },
                ),
            ],
        ),
        migrations.RunSQL(
            ORDER_LINE_VIEW,
            reverse_sql=["DROP TABLE order_line_view"],
            state_operations=[
                migrations.CreateModel(
                    name="OrderLineView",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "order_id", "sku", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("order_id", models.BigIntegerField()),
                        ("sku", models.CharField(max_length=64)),
                        ("product_id", models.BigIntegerField()),
                        ("product_name", models.CharField(max_length=200)),
                        ("quantity", models.IntegerField()),
                        ("unit_price", models.BigIntegerField()),
                        ("line_total", models.BigIntegerField()),
                    ],
                    options={"verbose_name": "order line", "db_table": "order_line_view", **UNMANAGED},
                ),
            ],
        ),
        migrations.RunSQL(
            CUSTOMER_STATS,
            reverse_sql=["DROP TABLE customer_stats"],
            state_operations=[
                migrations.CreateModel(
                    name="CustomerStats",
                    fields=[
                        ("customer_id", models.BigIntegerField(primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=200)),
                        ("email", models.CharField(max_length=254)),
                        ("is_active", models.BooleanField()),
                        ("order_count", models.IntegerField(default=0)),
                        ("cancelled_count", models.IntegerField(default=0)),
                        (
                            "lifetime_value",
                            models.BigIntegerField(default=0, help_text="Sum of the totals of non-cancelled orders."),
                        ),
                        ("last_order_at", models.DateTimeField(blank=True, null=True)),
                        ("version", models.IntegerField(help_text="Version of the customer aggregate last applied.")),
                    ],
                    options={
                        "verbose_name": "customer statistics",
                        "verbose_name_plural": "customer statistics",
                        "db_table": "customer_stats",
                        **UNMANAGED,
                    },
                ),
            ],
        ),
        migrations.RunSQL(
            DAILY_SALES,
            reverse_sql=["DROP TABLE daily_sales"],
            state_operations=[
                migrations.CreateModel(
                    name="DailySales",
                    fields=[
                        ("day", models.DateField(primary_key=True, serialize=False)),
                        ("orders", models.IntegerField(help_text="Orders placed that day, cancelled ones included.")),
                        (
                            "revenue",
                            models.BigIntegerField(
                                help_text="Sum of the current totals of that day's non-cancelled orders."
                            ),
                        ),
                        ("cancellations", models.IntegerField(help_text="Orders placed that day and cancelled since.")),
                        ("discount_total", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "daily sales",
                        "verbose_name_plural": "daily sales",
                        "db_table": "daily_sales",
                        **UNMANAGED,
                    },
                ),
            ],
        ),
        migrations.RunSQL(
            PRODUCT_SALES,
            reverse_sql=["DROP TABLE product_sales"],
            state_operations=[
                migrations.CreateModel(
                    name="ProductSales",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "day", "sku", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("day", models.DateField()),
                        ("sku", models.CharField(max_length=64)),
                        ("product_name", models.CharField(max_length=200)),
                        ("units", models.IntegerField()),
                        ("revenue", models.BigIntegerField(help_text="Sum of line totals, before order discounts.")),
                    ],
                    options={
                        "verbose_name": "product sales",
                        "verbose_name_plural": "product sales",
                        "db_table": "product_sales",
                        **UNMANAGED,
                    },
                ),
            ],
        ),
        migrations.RunSQL(
            CUSTOMER_SALES,
            reverse_sql=["DROP TABLE customer_sales"],
            state_operations=[
                migrations.CreateModel(
                    name="CustomerSales",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "day", "customer_id", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("day", models.DateField()),
                        ("customer_id", models.BigIntegerField()),
                        ("orders", models.IntegerField()),
                        ("revenue", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "customer sales",
                        "verbose_name_plural": "customer sales",
                        "db_table": "customer_sales",
                        **UNMANAGED,
                    },
                ),
            ],
        ),
    ]
