"""Projection tests run in real transactions; Django's flush skips unmanaged read tables and
the shared cache (the drain's debounce mark), so empty them before each test."""

import pytest
from django.core.cache import cache
from django.db import connection

from projections.registry import all_projections


@pytest.fixture(autouse=True)
def empty_read_tables(transactional_db):
    tables = sorted({table for projection in all_projections().values() for table in projection.tables})
    with connection.cursor() as cursor:
        for table in tables:  # DELETE rather than TRUNCATE: SQLite has no TRUNCATE
            cursor.execute(f"DELETE FROM {table}")
    cache.clear()
