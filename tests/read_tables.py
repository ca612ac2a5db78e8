"""Empty the read side between tests: Django's flush skips unmanaged read tables and the cache."""

from django.core.cache import cache
from django.db import connections

from config.databases import read_alias
from projections.runtime.registry import projections


def empty_read_tables() -> None:
    """Empty every projection's tables (TRUNCATE on PostgreSQL) and the shared cache.

    TRUNCATE rather than DELETE: deleted rows would stay behind as dead tuples and bloat the
    indexes, enough to tip the query plans that later tests (tests/read) assert. Inside a
    rolled-back test a truncated table simply keeps its old, untouched storage.
    """
    tables = sorted({table for projection in projections().values() for table in projection.tables()})
    connection = connections[read_alias()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:  # SQLite has no TRUNCATE
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    cache.clear()
