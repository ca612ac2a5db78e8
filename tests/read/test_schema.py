"""The read tables have exactly the columns, keys and indexes the projections and selectors rely on.

Projections write these tables with raw SQL, so a renamed or missing column would only show up
at run time; these checks catch it at test time, on whichever database the suite runs.
"""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.read.rows import READ_TABLES

# table -> (columns in order, nullable columns, primary key columns)
TABLES = {
    "order_summary": (
        "order_id customer_id customer_name status currency subtotal discount total item_count line_count "
        "last_item tracking_number version placed_at updated_at",
        set(),
        ["order_id"],
    ),
    "order_line_view": (
        "order_id sku product_id product_name quantity unit_price line_total",
        set(),
        ["order_id", "sku"],
    ),
    "customer_stats": (
        "customer_id name email is_active order_count cancelled_count lifetime_value last_order_at version",
        {"last_order_at"},
        ["customer_id"],
    ),
    "daily_sales": ("day orders revenue cancellations discount_total", set(), ["day"]),
    "product_sales": ("day sku product_name units revenue", set(), ["day", "sku"]),
    "customer_sales": ("day customer_id orders revenue", set(), ["day", "customer_id"]),
}

# index on order_summary -> its keys, each "column" or "column DESC"
INDEXES = {
    "order_summary_customer_recent": "customer_id, placed_at DESC, order_id DESC",
    "order_summary_status_recent": "status, placed_at DESC, order_id DESC",
    "order_summary_recent": "placed_at DESC, order_id DESC",
}
# index on a customer rollup -> (its table, its keys): the threshold ranking's reads (ADR 0021)
RANKING_INDEXES = {
    "customer_sales_month_ranking": ("customer_sales_month", "month, revenue DESC, customer_id"),
    "customer_sales_year_ranking": ("customer_sales_year", "year, revenue DESC, customer_id"),
}


def _describe(table):
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, table)
        constraints = connection.introspection.get_constraints(cursor, table)
    return columns, constraints


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_read_table_has_the_contracted_columns_and_primary_key(table):
    names, nullable, primary_key = TABLES[table]
    columns, constraints = _describe(table)

    assert [column.name for column in columns] == names.split()
    assert {column.name for column in columns if column.null_ok} == nullable
    assert [c["columns"] for c in constraints.values() if c["primary_key"]] == [primary_key]


@pytest.mark.django_db
@pytest.mark.parametrize("index", sorted(INDEXES) + sorted(RANKING_INDEXES))
def test_a_secondary_index_has_its_columns_and_directions(index):
    table, spec = RANKING_INDEXES.get(index, ("order_summary", INDEXES.get(index)))
    keys = [key.split() for key in spec.split(", ")]
    columns, orders = [key[0] for key in keys], [key[1] if len(key) > 1 else "ASC" for key in keys]
    _, constraints = _describe(table)

    assert constraints[index]["index"] and constraints[index]["columns"] == columns
    # PostgreSQL reports the direction of each key; Django's SQLite introspection does not.
    assert constraints[index].get("orders", orders) == orders


@pytest.mark.django_db
def test_the_only_secondary_indexes_are_the_documented_ones():
    secondary = set()
    for table in READ_TABLES:
        _, constraints = _describe(table)
        secondary |= {
            name
            for name, c in constraints.items()
            if c["index"] and not c["primary_key"] and not name.startswith("sqlite_autoindex")
        }
    assert secondary == set(INDEXES) | set(RANKING_INDEXES)


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_and_reapplies():
    call_command("migrate", "orders_read", "zero", verbosity=0)
    try:
        assert not READ_TABLES & set(connection.introspection.table_names())
    finally:
        call_command("migrate", verbosity=0)  # everything, in case another app's migration depended on ours
    assert set(connection.introspection.table_names()) >= READ_TABLES
