"""Register the database cluster the outbox is on, before anything is written there (ADR 0017).

After a dump is restored into another cluster (a move, a restore from backup, a promoted
logical replica), new outbox rows carry that cluster's transaction ids, which may be lower than
the restored rows'. Consumers read in ``(txid, position)`` order, so they must know where the
new cluster's rows begin: every connection to the write database calls
``outbox_register_timeline()`` when it opens, and the first one on a new cluster records it
with the highest position already stored. Every outbox writer connects first, so no event is
written on a cluster before it is registered.
"""

from typing import Any

from django.db.backends.signals import connection_created

# One round trip per new connection; before migrations the function does not exist yet.
_REGISTER = """
DO $$ BEGIN
    IF to_regproc('outbox_register_timeline') IS NOT NULL THEN PERFORM outbox_register_timeline(); END IF;
END $$
"""


def register_timeline(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Register the cluster of a new write-database connection (PostgreSQL only)."""
    from config.databases import write_alias

    if connection.vendor != "postgresql" or connection.alias != write_alias():
        return
    with connection.cursor() as cursor:
        cursor.execute(_REGISTER)


def connect() -> None:
    connection_created.connect(register_timeline, dispatch_uid="orders_write.timelines")
