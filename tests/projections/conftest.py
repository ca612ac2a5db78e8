"""Projection tests run in real transactions; Django's flush skips unmanaged read tables,
so empty every projection's tables before each test."""

import pytest
from django.db import connection

from projections.registry import all_projections


@pytest.fixture(autouse=True)
def empty_read_tables(transactional_db):
    tables = sorted({table for projection in all_projections().values() for table in projection.tables})
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
