"""The drain's batch read walks the ``(txid, position)`` index in order: no sort of the backlog.

A batch reads the next events after the checkpoint with ``LIMIT``; if PostgreSQL had to sort,
every batch would read the whole backlog (0.9 s per batch on a million events, bench/drain.py).
Scans that cannot deliver rows in order, and sorting, are discouraged for the EXPLAIN, so the
plan shows whether an index *can* serve the ordering, whatever the table's size: a sort still
appears when nothing else can produce the order.
"""

import pytest
from django.db import connection

from projections.store.horizon import lock_key_parameters
from projections.store.postgres import _BATCH, _BECAME_READABLE

pytestmark = pytest.mark.django_db


def test_the_batch_read_is_an_ordered_index_range_scan():
    settings = ("enable_seqscan", "enable_bitmapscan", "enable_sort")
    with connection.cursor() as cursor:
        try:
            for setting in settings:
                cursor.execute(f"SET {setting} = off")
            params = {"txid": "0", "position": 0, "horizon": "1000", "low": 0, "high": 2**63 - 1}
            params |= {"types": ["OrderPlaced", "OrderConfirmed"], "limit": 2000}
            cursor.execute("EXPLAIN " + _BATCH, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            for setting in settings:
                cursor.execute(f"RESET {setting}")
    assert "outbox_event_txid_position" in plan, plan
    assert "Sort" not in plan, plan


def test_the_long_polls_check_probes_the_txid_index_between_two_horizons():
    """The feed's waiters check once a tick whether a row lies between two horizons (ADR 0028): an
    index probe, never a scan of the outbox."""
    with connection.cursor() as cursor:
        try:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + _BECAME_READABLE, {**lock_key_parameters(), "since": "1000"})
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "outbox_event_txid_position" in plan, plan
