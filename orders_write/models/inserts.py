"""Multi-row inserts without the ORM's per-call compile, for the hottest command's new rows.

Placing an order inserts an order, its lines and an outbox event. ``Model.save()`` and
``bulk_create()`` compile a new INSERT each call (and ``bulk_create`` runs its preparation
passes): under API load that was a fifth of a placement's CPU in gunicorn, more than the round
trips themselves (docs/benchmarks.md). These helpers write the same rows with one statement
each. Values still go through each field's ``pre_save`` and ``get_db_prep_save`` (defaults,
``auto_now_add``, JSON, datetimes: the ORM's own conversions), the write guard still refuses
them outside a domain service, and the database's constraints check every row as before.
"""

from collections.abc import Sequence
from typing import Any

from django.db import models, transaction

from config.databases import write_alias
from orders_write.models.guard import require_write_scope


def insert_rows(model: type[models.Model], field_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """Insert ``rows`` (Python values in ``field_names`` order) in one statement; return their primary keys.

    The keys come back in the order of ``rows`` (``RETURNING`` of a multi-row ``VALUES``, which
    Django's own ``bulk_create`` relies on as well).
    """
    require_write_scope(f"{model.__name__} insert")
    connection = transaction.get_connection(write_alias())
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
        f" VALUES {', '.join([row_sql] * len(rows))} RETURNING {quote(model._meta.pk.column)}"
    )
    params = [
        field.get_db_prep_save(value, connection) for row in rows for field, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def insert_instances(instances: Sequence[models.Model]) -> None:
    """Insert unsaved instances of one model with an auto primary key, and give each its key."""
    model = type(instances[0])
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.pk]
    rows = [[field.pre_save(instance, add=True) for field in fields] for instance in instances]
    for instance, pk in zip(instances, insert_rows(model, [field.name for field in fields], rows), strict=True):
        instance.pk = pk
        instance._state.adding, instance._state.db = False, write_alias()
