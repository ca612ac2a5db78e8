"""Record, on PostgreSQL, which transaction wrote each outbox row.

Positions come from a sequence, so a transaction can take position 10 and commit after
position 11 is already visible. A reader that only advanced by position could skip 10 for
ever. With ``txid`` (``xid8``, never wraps) a reader takes only rows whose writing
transaction is older than every transaction still running (``pg_snapshot_xmin``), in
``(txid, position)`` order; the index serves exactly that range scan. SQLite serialises
writers, so it needs no such column.
"""

from django.db import migrations

ADD_TXID = """
ALTER TABLE outbox_event ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_event_txid_position ON outbox_event (txid, position);
"""
DROP_TXID = """
DROP INDEX IF EXISTS outbox_event_txid_position;
ALTER TABLE outbox_event DROP COLUMN IF EXISTS txid;
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("orders_write", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(ADD_TXID), _on_postgresql(DROP_TXID))]
