"""Projection tests run in real transactions; Django's flush skips unmanaged read tables and
the shared cache (the drain's debounce mark), so empty them before each test."""

import pytest

from tests.read_tables import empty_read_tables as _empty_read_tables


@pytest.fixture(autouse=True)
def empty_read_tables(transactional_db):
    _empty_read_tables()
