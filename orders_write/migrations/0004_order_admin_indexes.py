"""Index the order table for the staff admin's order list (a million orders and more).

The list filters by status and by placement date, sorts by number or by placement date, and
shows 50 rows at a time. Without these indexes each filtered page, and each exact count of a
small filtered result, would scan the whole table:

- ``(status, id)``: one status, newest first (``WHERE status = … ORDER BY id DESC LIMIT 50``),
  and the count of a rare status as an index-only scan.
- ``(placed_at, id)``: the date filter's range, and the list sorted by placement date.

Written as plain DDL that PostgreSQL and SQLite both run; the model keeps no ``Meta.indexes``
for them, so the migration state is unchanged and ``makemigrations`` finds nothing to do.
"""

from django.db import migrations

CREATE = [
    'CREATE INDEX IF NOT EXISTS order_status_id ON "orders_write_order" ("status", "id")',
    'CREATE INDEX IF NOT EXISTS order_placed_at_id ON "orders_write_order" ("placed_at", "id")',
]
DROP = ["DROP INDEX IF EXISTS order_status_id", "DROP INDEX IF EXISTS order_placed_at_id"]


class Migration(migrations.Migration):
    dependencies = [("orders_write", "0003_permissions")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]
