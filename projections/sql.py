"""Set-based reads and writes shared by projections: one statement per table per batch.

On PostgreSQL a batch's rows travel as one array per column and are unnested server-side
(``INSERT … SELECT * FROM unnest(%s::bigint[], …) ON CONFLICT … DO UPDATE``), bound as real
parameters on the same connection and transaction. The statement text is short and the same for
every batch, so psycopg converts it once and PostgreSQL can prepare it; the multi-row ``VALUES``
form made psycopg's client-side binding quote and splice thousands of literals per batch, which
was the drain's largest single cost (bench/drain.py). SQLite (the quick start) keeps the
multi-row ``VALUES`` form, which it spells the same way.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connections

# Physical table -> {column: PostgreSQL type}, read from the catalogue once per table and process.
_COLUMN_TYPES: dict[str, dict[str, str]] = {}
_MAX_PARAMETERS = 30_000  # below SQLite's 32,766 bound parameters per statement


def bulk_upsert(cursor: Any, table: str, columns: Sequence[str], key: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Insert ``rows`` or overwrite the non-key columns of rows whose ``key`` exists."""
    updates = [f"{column} = excluded.{column}" for column in columns if column not in key]
    _insert_on_conflict(cursor, table, columns, key, updates, rows)


def bulk_increment(
    cursor: Any,
    table: str,
    key: Sequence[str],
    set_columns: Sequence[str],
    increment_columns: Sequence[str],
    rows: Sequence[Sequence],
) -> None:
    """Insert ``rows`` (key, set, then increment columns) or add their increments to existing rows.

    On conflict the ``set_columns`` are overwritten and each of ``increment_columns`` becomes
    ``stored + given``. A key must appear at most once in ``rows``: PostgreSQL refuses to touch
    one row twice in a statement, so callers sum their deltas per key first.
    """
    updates = [f"{column} = excluded.{column}" for column in set_columns]
    updates += [f"{column} = {table}.{column} + excluded.{column}" for column in increment_columns]
    _insert_on_conflict(cursor, table, [*key, *set_columns, *increment_columns], key, updates, rows)


def _insert_on_conflict(
    cursor: Any, table: str, columns: Sequence[str], key: Sequence[str], updates: list[str], rows: Sequence[Sequence]
) -> None:
    """Write ``rows`` with as few multi-row ``INSERT … ON CONFLICT (key) DO UPDATE`` statements as fit."""
    if not rows:
        return
    if cursor.db.vendor == "postgresql":
        _insert_on_conflict_unnest(cursor, table, columns, key, updates, rows)
        return
    rows = [[_adapt(cursor, value) for value in row] for row in rows]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, _MAX_PARAMETERS // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(chunk))} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}",
            [value for row in chunk for value in row],
        )


def _insert_on_conflict_unnest(
    cursor: Any, table: str, columns: Sequence[str], key: Sequence[str], updates: list[str], rows: Sequence[Sequence]
) -> None:
    types = column_types(cursor, table)
    arrays = [list(values) for values in zip(*rows, strict=True)]
    unnest = ", ".join(f"%b::{types[column]}[]" for column in columns)
    with server_side_cursor(cursor.db) as raw:
        raw.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({unnest}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}",
            arrays,
        )


def bulk_set(cursor: Any, table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Set ``columns`` of existing rows: each row is its ``key`` value, then the columns' values.

    PostgreSQL: one ``UPDATE … FROM unnest(…)``; SQLite: one ``UPDATE`` per row.
    """
    if not rows:
        return
    if cursor.db.vendor == "postgresql":
        types = column_types(cursor, table)
        unnest = ", ".join(f"%b::{types[column]}[]" for column in (key, *columns))
        assignments = ", ".join(f"{column} = v.{column}" for column in columns)
        with server_side_cursor(cursor.db) as raw:
            raw.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({unnest}) AS v({key}, {', '.join(columns)}) "
                f"WHERE {table}.{key} = v.{key}",
                [list(values) for values in zip(*rows, strict=True)],
            )
        return
    assignments = ", ".join(f"{column} = %s" for column in columns)
    cursor.executemany(
        f"UPDATE {table} SET {assignments} WHERE {key} = %s",
        [[*(_adapt(cursor, value) for value in row[1:]), row[0]] for row in rows],
    )


def server_side_cursor(connection: Any) -> Any:
    """A psycopg cursor with server-side binding on a Django PostgreSQL connection (in its transaction).

    Django's PostgreSQL backend binds client-side (``ClientCursor``); arrays are far cheaper bound.
    """
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def column_types(cursor: Any, table: str) -> dict[str, str]:
    """Return ``{column: type}`` of a PostgreSQL table (cached: shadow tables share the live ones' types)."""
    if table not in _COLUMN_TYPES:
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        _COLUMN_TYPES[table] = dict(cursor.fetchall())
    return _COLUMN_TYPES[table]


def bulk_delete(cursor: Any, table: str, key: Sequence[str], keys: Sequence[Sequence]) -> None:
    """Delete the rows whose ``key`` columns equal one of ``keys``."""
    if not keys:
        return
    match = "(" + " AND ".join(f"{column} = %s" for column in key) + ")"
    per_statement = max(1, _MAX_PARAMETERS // len(key))
    for start in range(0, len(keys), per_statement):
        chunk = keys[start : start + per_statement]
        cursor.execute(f"DELETE FROM {table} WHERE {' OR '.join([match] * len(chunk))}", [v for k in chunk for v in k])


def _adapt(cursor: Any, value: Any) -> Any:
    """Store datetimes and dates as the ORM does (SQLite keeps them as text, so the format must match)."""
    if isinstance(value, datetime):
        return cursor.db.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return cursor.db.ops.adapt_datefield_value(value)
    return value


def fetch_matching(cursor: Any, select: str, column: str, values: Sequence) -> list[dict[str, Any]]:
    """Run ``select`` (no WHERE) for the rows whose ``column`` is one of ``values`` (not empty), as dicts.

    PostgreSQL gets the values as one array (``= ANY(%s)``), SQLite an ``IN (…)`` list.
    """
    if cursor.db.vendor == "postgresql":
        # Binary results: timestamps arrive as numbers, not ISO text to parse.
        with server_side_cursor(cursor.db) as raw:
            raw.execute(f"{select} WHERE {column} = ANY(%s)", [list(values)], binary=True)
            return _as_dicts(raw)
    cursor.execute(f"{select} WHERE {column} IN {in_clause(values)}", list(values))
    return _as_dicts(cursor)


def _as_dicts(cursor: Any) -> list[dict[str, Any]]:
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def in_clause(values: Sequence) -> str:
    """Return ``(%s, %s, …)`` for ``values`` (which must not be empty)."""
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def on_postgresql(alias: str) -> bool:
    """Say whether database ``alias`` is PostgreSQL (else SQLite, the quick start)."""
    return connections[alias].vendor == "postgresql"


def analyze_tables(alias: str, tables: Sequence[str]) -> None:
    """Refresh the planner's statistics for ``tables`` (PostgreSQL; autovacuum may be off or behind).

    Without them, after a bulk catch-up PostgreSQL estimated rows 3-7x low and picked slow plans
    for the dashboard and the lag queries (bench/pages.md).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def columns_of(model: Any) -> tuple[str, ...]:
    """Return the model's column names in declaration order: the schema is written once, in the model."""
    return tuple(field.column for field in model._meta.concrete_fields if field.column)
