"""The drain's horizon: below it no outbox row can still appear (ADR 0015, refining ADR 0008).

A consumer reads rows with ``txid < horizon`` in ``(txid, position)`` order after its checkpoint,
so the horizon must be a transaction id below which every transaction that could write outbox
rows has ended, visibly to the batch read that follows. ``pg_snapshot_xmin`` is one, but it
waits for *every* transaction with an id in the whole cluster (a data migration, a batch job,
another application's database): all of them froze every projection. Here the drain waits
only for the transactions that can write the outbox: every writer takes the shared
transaction-level advisory lock ``OUTBOX_WRITER_LOCK`` as its first statement, before a write
gives it a transaction id (``orders_write.outbox.writer_lock``; the ``command`` decorator).

One statement, run before the batch read (``HORIZON``):

- ``s`` = ``pg_current_snapshot()``, the statement's own snapshot, taken before the statement
  reads ``pg_locks``;
- ``bystanders`` = the (low 32 bits of the) transaction ids whose own ``transactionid`` lock
  (``ExclusiveLock``, granted; every transaction holds one on its id until it ends) belongs to a
  transaction (``virtualtransaction``) that does *not* hold the writers' lock in this database:
  transactions positively known to be running and unable to write the outbox;
- horizon = the least of xmax(s) and every x in xip(s) whose low 32 bits are not a bystander's.

Why nothing is skipped. Take a writer W with id w < horizon. Then w < xmax(s), so W had its id
before s. If W had ended at s, every snapshot from s on sees it. Otherwise w is in xip(s), and
since w < horizon it was left out, so when ``pg_locks`` was read (after s) w's lock was held by a
transaction without the writers' lock. But that transaction is W itself, and W, still running,
holds the writers' lock: it took it before it had an id and keeps it to its end. Contradiction.
So every writer below the horizon had ended at s, and the batch read, whose snapshot is s
(REPEATABLE READ) or later (READ COMMITTED), sees all of its rows. Writers that had no id yet at
s get ids at or above xmax(s) >= horizon. Waiting is the default: a transaction in xip(s) whose
id lock is gone by the time ``pg_locks`` is read (it just ended) or not there yet (its id is being
assigned) is waited for. Prepared transactions keep their locks, under one ``virtualtransaction``,
and are judged the same way.

Facts this relies on (PostgreSQL 13+): advisory and ``transactionid`` locks live in the main lock
table, never the per-backend fast path (relation locks only), and one ``pg_locks`` call reads
the main table under all its partition locks, so the two kinds of rows come from one moment. A
single bigint advisory key shows as ``classid`` = high 32 bits, ``objid`` = low 32 bits,
``objsubid`` = 1, with ``database`` = the database's oid. ``pg_locks.transactionid`` is a 32-bit
``xid`` and ``pg_snapshot_xip`` gives 64-bit ``xid8``: compare ``x::text::bigint % 2^32`` with
``transactionid::text::bigint``. The ids of running transactions lie within 2^31 of each other
(wraparound protection), so the low 32 bits identify one among them. ``pg_stat_activity``'s
``backend_xid`` is not used: a backend reads that view once per transaction and keeps the copy,
so a horizon computed twice in one transaction (a rebuild's catch-up) would miss newer writers.
"""

from typing import Any

from django.apps import apps

HORIZON = """
    WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
    locks AS MATERIALIZED (
        SELECT locktype, database, classid, objid, objsubid, transactionid, mode, granted, virtualtransaction
        FROM pg_locks
    ),
    writers AS (
        SELECT virtualtransaction FROM locks
        WHERE locktype = 'advisory' AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = %(classid)s::oid AND objid = %(objid)s::oid AND objsubid = 1
    ),
    bystanders AS (
        SELECT transactionid::text::bigint AS xid32 FROM locks
        WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted
          AND NOT EXISTS (SELECT FROM writers WHERE writers.virtualtransaction = locks.virtualtransaction)
    )
    SELECT LEAST(
        pg_snapshot_xmax(s),
        (SELECT MIN(x) FROM pg_snapshot_xip(s) AS x
         WHERE NOT EXISTS (SELECT FROM bystanders WHERE xid32 = x::text::bigint %% 4294967296))
    )::text::bigint
    FROM snapshot
"""


def lock_key_parameters() -> dict[str, int]:
    """Return ``HORIZON``'s parameters: the writers' lock key split as ``pg_locks`` shows it.

    The key is ``orders_write.models.outbox.OUTBOX_WRITER_LOCK``, found through the app registry
    (as ``config.databases`` finds the outbox's database) so that the read side, which reaches the
    event store, imports nothing of the write side.
    """
    key = apps.get_model("orders_write", "OutboxEvent").WRITER_LOCK
    return {"classid": key >> 32, "objid": key & 0xFFFFFFFF}


def horizon(cursor: Any) -> int:
    """Return the horizon (an ``xid8``, as int): every outbox row of a lower ``txid`` is committed
    and visible to any statement that starts after this one. Run it before the batch read."""
    cursor.execute(HORIZON, lock_key_parameters())
    return cursor.fetchone()[0]
