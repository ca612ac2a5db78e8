"""Prove convergence (property 7) beside the running drain, never stalling it (property 12).

The projection is replayed from the start into verify shadows (``<table>__verify``) through its
own ``apply``, one batch per transaction, up to where the live checkpoint was when verify
started. The comparison then walks each table in chunks of ``CHUNK_ROWS`` primary keys, one
short REPEATABLE READ transaction per chunk: it reads the live checkpoint in that snapshot (the
live rows and their checkpoint commit together, so the snapshot shows the tables exactly as of
it), brings the shadows up to it, and compares the chunk. The live drain keeps moving between
chunks; verify never locks a checkpoint and holds no transaction for longer than one chunk (ADR 0018).

Parked streams are held back from the replay as the drain holds them back (from their first
failing event on), and a stream released meanwhile is replayed into the shadows, so a poison
event is reported as the parked stream it is and every other stream is still checked. Last come
the projection's own comparisons with the write side (``write_side_differences``).
"""

from typing import Any

from django.db import connections, transaction

from config.databases import read_alias
from config.limits import MAX_BIGINT
from projections.models import Checkpoint, ParkedStream
from projections.runtime.apply import apply_events, batches
from projections.runtime.checkpoints import ensure_checkpoints, position_of
from projections.runtime.consumer import Projection
from projections.runtime.rebuild import BUILD_BATCH, catch_up, create_shadows, drop_shadows
from projections.runtime.registry import projections
from projections.runtime.status import consumer_health
from projections.sql import on_postgresql
from projections.store import START, Position, event_store

VERIFY = "__verify"
CHUNK_ROWS = 5000
_NEVER = MAX_BIGINT  # "held from" of a stream that is not held (above every position)
SHOWN_PER_TABLE = 5


def verify(name: str) -> list[str]:
    """Return human-readable differences for one projection; empty when it is consistent."""
    projection = projections()[name]
    ensure_checkpoints([name])
    differences = _compare_with_replay(projection)
    health = next(row for row in consumer_health() if row.name == name)
    return differences + projection.write_side_differences(caught_up=health.lag_events == 0 and not health.parked)


def parked(name: str) -> dict[tuple[str, int], int]:
    """Return the projection's parked streams, each with the position it is held back from."""
    rows = ParkedStream.objects.using(read_alias()).filter(projection=name)
    return {(row.aggregate_type, row.aggregate_id): row.first_position for row in rows}


class _Replay:
    """The verify shadows and how far they are: kept in step with the live checkpoint, chunk by chunk."""

    def __init__(self, projection: Projection) -> None:
        self.live = projection
        self.shadow = projection.shadow(VERIFY)
        self.at: Position = START
        self.held: dict[tuple[str, int], int] = {}

    def up_to(self, until: Position, cursor: Any) -> None:
        """Bring the shadows to ``until`` in the caller's transaction, mirroring the parked streams."""
        held = parked(self.live.name)
        for stream, first_position in self.held.items():
            if held.get(stream, _NEVER) > first_position:  # released (or skipped past) since
                self._replay_stream(stream, first_position, held.get(stream, _NEVER), cursor)
        self.at, _ = catch_up(self.shadow, cursor, after=self.at, until=until, held=held)
        self.held = held

    def bulk(self, until: Position) -> None:
        """Replay from where the shadows are to ``until``, one batch per transaction."""
        self.held = parked(self.live.name)
        for batch in batches(after=self.at, event_types=self.shadow.event_types(), limit=BUILD_BATCH, until=until):
            with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
                ready = [e for e in batch.events if e.position < self.held.get(e.stream, _NEVER)]
                if ready:
                    apply_events(self.shadow, ready, cursor)
            self.at = batch.end

    def _replay_stream(self, stream: tuple[str, int], start: int, stop: int, cursor: Any) -> None:
        """Apply the stream's events from ``start`` up to (not including) ``stop`` that the shadows passed."""
        events = event_store().read_stream(
            aggregate_type=stream[0], aggregate_id=stream[1], from_position=start, event_types=self.shadow.event_types()
        )
        ready = [e for e in events if e.drain_position <= self.at and e.position < stop]
        if ready:
            apply_events(self.shadow, ready, cursor)


def _compare_with_replay(projection: Projection) -> list[str]:
    replay = _Replay(projection)
    tables = projection.tables()
    create_shadows(tables, VERIFY)
    try:
        replay.bulk(position_of(Checkpoint.objects.using(read_alias()).get(projection=projection.name)))
        differences: list[str] = []
        for model in projection.models:
            differences += _compare_table(replay, model)
        return differences
    finally:
        drop_shadows(tables, VERIFY)


def _compare_table(replay: _Replay, model: Any) -> list[str]:
    table = model._meta.db_table
    shadow = replay.shadow.physical_table(table)
    key = _first_key_column(model)
    connection = connections[read_alias()]
    quote = connection.ops.quote_name
    extra: list[tuple] = []
    missing: list[tuple] = []
    low = None
    while True:
        with transaction.atomic(using=read_alias()), connection.cursor() as cursor:
            if on_postgresql(read_alias()):
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            at = position_of(Checkpoint.objects.using(read_alias()).get(projection=replay.live.name))
            replay.up_to(at, cursor)
            high = _chunk_end(cursor, [quote(table), quote(shadow)], quote(key), low)
            live_rows = _rows(cursor, quote(table), quote(key), low, high)
            shadow_rows = _rows(cursor, quote(shadow), quote(key), low, high)
        extra += sorted(live_rows - shadow_rows, key=repr)
        missing += sorted(shadow_rows - live_rows, key=repr)
        if high is None:
            break
        low = high
    return _diff(table, extra, missing)


def _first_key_column(model: Any) -> str:
    pk = model._meta.pk
    return pk.fields[0].column if hasattr(pk, "fields") else pk.column


def _chunk_end(cursor: Any, tables: list[str], key: str, low: Any) -> Any:
    """Return the key ending the next chunk (the lower of the tables' ``CHUNK_ROWS``-th), None for the rest."""
    ends = []
    for table in tables:
        where, params = (f"WHERE {key} > %s", [low]) if low is not None else ("", [])
        cursor.execute(f"SELECT {key} FROM {table} {where} ORDER BY {key} LIMIT 1 OFFSET %s", [*params, CHUNK_ROWS])
        row = cursor.fetchone()
        if row is not None:
            ends.append(row[0])
    return min(ends) if ends else None


def _rows(cursor: Any, table: str, key: str, low: Any, high: Any) -> set[tuple]:
    conditions, params = [], []
    if low is not None:
        conditions.append(f"{key} > %s")
        params.append(low)
    if high is not None:
        conditions.append(f"{key} <= %s")
        params.append(high)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    cursor.execute(f"SELECT * FROM {table} {where}", params)
    return set(cursor.fetchall())


def _diff(table: str, extra: list[tuple], missing: list[tuple]) -> list[str]:
    if not extra and not missing:
        return []
    lines = [f"{table}: {len(extra)} row(s) not in a rebuild, {len(missing)} rebuilt row(s) missing"]
    lines += [f"  only in {table}: {row}" for row in extra[:SHOWN_PER_TABLE]]
    lines += [f"  only in the rebuild: {row}" for row in missing[:SHOWN_PER_TABLE]]
    return lines
