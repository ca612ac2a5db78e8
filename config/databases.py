"""Which database alias holds what: asked of the router each time, never frozen at import.

The read side (read tables, checkpoints, parked streams) lives on ``read`` when
``READ_DATABASE_URL`` is set, else on ``default``; the write side and the outbox on ``default``.
Asking the router at call time keeps tests that change ``DATABASES`` (or ``DATABASE_ROUTERS``)
honest: an alias frozen at import would keep pointing at the database the process started with.
Each call is an app-registry lookup and the router's answer, never a query, so callers may ask
per batch or per command instead of caching the answer.
"""

from django.apps import apps
from django.db import router


def read_alias() -> str:
    """Return the alias of the read database (read tables, checkpoints, parked streams)."""
    return router.db_for_write(apps.get_model("projections", "Checkpoint"))


def write_alias() -> str:
    """Return the alias of the write database (write tables and the outbox)."""
    return router.db_for_write(apps.get_model("orders_write", "OutboxEvent"))
