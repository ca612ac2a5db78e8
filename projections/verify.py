"""Prove convergence (property 7): read tables equal a rebuild from the log and agree with
the write tables.

The rebuild comparison runs inside one transaction that is always rolled back: it locks the
projection's checkpoint (so no drain moves it meanwhile), snapshots the tables, empties them,
replays the log from the start up to the checkpoint through the same ``apply``, snapshots
again and compares. Readers on PostgreSQL keep seeing the committed rows throughout (MVCC).

Parked streams are held back from the replay exactly as the drain holds them back (from their
first failing event on), so a poison event is reported as the parked stream it is (``parked``)
rather than crashing the replay, and every other stream is still checked. The sales sums are
compared with the write side only when nothing is held back, as only then must they agree.
"""

from typing import Any

from django.db import connections, transaction

from projections.drain import READ_DB, ensure_checkpoints
from projections.health import projection_health
from projections.models import Checkpoint, ParkedStream
from projections.outbox_reader import WRITE_DB, raise_if_undecodable, read_batch
from projections.registry import Projection, all_projections
from projections.sales_check import sales_against_write_side

REPLAY_BATCH = 1000
SHOWN_PER_TABLE = 5


class _RollBack(Exception):
    pass


def verify(name: str) -> list[str]:
    """Return human-readable differences for one projection; empty when it is consistent."""
    projection = all_projections()[name]
    ensure_checkpoints([name])
    differences = _compare_with_rebuild(projection)
    if name == "order_views":
        differences += _order_views_against_write_side()
    if name == "sales":
        health = next(row for row in projection_health() if row["name"] == name)
        differences += sales_against_write_side(caught_up=health["lag_events"] == 0 and not health["parked"])
    return differences


def parked(name: str) -> dict[tuple[str, int], int]:
    """Return the projection's parked streams, each with the position it is held back from."""
    rows = ParkedStream.objects.using(READ_DB).filter(projection=name)
    return {(row.aggregate_type, row.aggregate_id): row.first_position for row in rows}


def _compare_with_rebuild(projection: Projection) -> list[str]:
    differences: list[str] = []
    try:
        with transaction.atomic(using=READ_DB):
            checkpoint = Checkpoint.objects.using(READ_DB).select_for_update().get(projection=projection.name)
            with connections[READ_DB].cursor() as cursor:
                before = {table: _rows(cursor, projection.t(table)) for table in projection.tables}
                for table in projection.tables:
                    cursor.execute(f"DELETE FROM {projection.t(table)}")
                at = (checkpoint.last_txid, checkpoint.last_position)
                replay_up_to(projection, cursor, at, held=parked(projection.name))
                for table in projection.tables:
                    differences += _diff(table, before[table], _rows(cursor, projection.t(table)))
            raise _RollBack
    except _RollBack:
        pass
    return differences


def replay_up_to(
    projection: Projection,
    cursor: Any,
    checkpoint: tuple[int, int],
    *,
    after: tuple[int, int] = (0, 0),
    held: dict[tuple[str, int], int] | None = None,
) -> tuple[tuple[int, int], int]:
    """Apply the events strictly after ``after`` up to ``checkpoint`` (inclusive), in drain order.

    Return the (txid, position) of the last event read (``after`` when none) and how many were
    applied. ``held`` maps streams to the position they are held back from (``verify`` passes the
    parked streams; the rebuild holds nothing back and stops on a failing event instead).
    Used by ``verify`` (from the start) and by the rebuild's catch-up (from the shadow's position).
    """
    applied = 0
    held = held or {}
    while True:
        events = read_batch(after=after, event_types=projection.event_types(), limit=REPLAY_BATCH)
        events = [e for e in events if (e.txid, e.position) <= checkpoint]
        if not events:
            return after, applied
        ready = [e for e in events if e.position < held.get((e.aggregate_type, e.aggregate_id), e.position + 1)]
        if ready:
            raise_if_undecodable(ready)
            projection.apply(ready, cursor)
        applied += len(ready)
        after = (events[-1].txid, events[-1].position)


def _rows(cursor: Any, table: str) -> set[tuple]:
    cursor.execute(f"SELECT * FROM {table}")
    return set(cursor.fetchall())


def _diff(table: str, current: set[tuple], rebuilt: set[tuple]) -> list[str]:
    extra, missing = sorted(current - rebuilt, key=repr), sorted(rebuilt - current, key=repr)
    if not extra and not missing:
        return []
    lines = [f"{table}: {len(extra)} row(s) not in a rebuild, {len(missing)} rebuilt row(s) missing"]
    lines += [f"  only in {table}: {row}" for row in extra[:SHOWN_PER_TABLE]]
    lines += [f"  only in the rebuild: {row}" for row in missing[:SHOWN_PER_TABLE]]
    return lines


_WRITE_SIDE_ORDERS = """
    SELECT o.id, o.customer_id, c.name, o.status, o.subtotal, o.discount, o.total, o.item_count, o.version,
           (SELECT COUNT(*) FROM orders_write_orderline l WHERE l.order_id = o.id)
    FROM orders_write_order o JOIN orders_write_customer c ON c.id = o.customer_id
"""
_READ_SIDE_ORDERS = """
    SELECT order_id, customer_id, customer_name, status, subtotal, discount, total, item_count, version, line_count
    FROM order_summary
"""


def _order_views_against_write_side() -> list[str]:
    """Compare every order the projection has reached (same version) field by field.

    Orders the write side has moved past the projection are lag, not differences; an order the
    projection holds at a version the write side never had, or a missing order, is reported.
    """
    with connections[WRITE_DB].cursor() as cursor:
        cursor.execute(_WRITE_SIDE_ORDERS)
        written = {row[0]: row for row in cursor.fetchall()}
    with connections[READ_DB].cursor() as cursor:
        cursor.execute(_READ_SIDE_ORDERS)
        projected = {row[0]: row for row in cursor.fetchall()}
    problems = []
    for order_id, row in sorted(projected.items()):
        source = written.get(order_id)
        if source is None or row[8] > source[8]:
            problems.append(f"order_summary: order {order_id} at v{row[8]} does not exist on the write side")
        elif row[8] == source[8] and row != source:
            problems.append(f"order_summary: order {order_id} differs from the write side: {row} != {source}")
    return problems[: SHOWN_PER_TABLE * 4]
