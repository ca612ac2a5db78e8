"""Idempotency records: scoped by the user's primary key only, purged after the retention (ADR 0022)."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_q.models import Schedule

from orders_write.models import IdempotencyRecord
from orders_write.models.guard import service_write_scope
from orders_write.services import LineInput, order_place
from orders_write.services.idempotency import idempotency_records_purge
from orders_write.tasks import PURGE_SCHEDULE_NAME, purge_idempotency_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="x")


def place(customer: int, sku: str, actor, key: str, quantity: int = 1):
    return order_place(
        customer_id=customer, lines=[LineInput(sku=sku, quantity=quantity)], actor=actor, idempotency_key=key
    )


def test_a_renamed_users_retry_still_finds_its_first_result(alice, customer, sku, django_user_model):
    first = place(customer, sku, alice, "key-1")
    alice.username = "alice-renamed"
    alice.save()

    assert place(customer, sku, django_user_model.objects.get(pk=alice.pk), "key-1") == first
    assert IdempotencyRecord.objects.get().scope == f"user:{alice.pk}"


def test_a_new_user_given_an_old_username_does_not_find_the_old_users_keys(alice, customer, sku, django_user_model):
    first = place(customer, sku, alice, "key-1")
    alice.username = "gone"
    alice.save()
    newcomer = django_user_model.objects.create_user(username="alice", password="x")

    assert place(customer, sku, newcomer, "key-1").order_id != first.order_id


def age(days: float) -> None:
    """Make every record ``days`` older (as if the clock had moved on)."""
    with service_write_scope():
        for record in IdempotencyRecord.objects.all():
            IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=record.created_at - timedelta(days=days))


def test_records_past_the_retention_are_purged_and_their_keys_place_anew(alice, customer, sku, settings):
    settings.IDEMPOTENCY_RETENTION_DAYS = 7
    old = place(customer, sku, alice, "old")
    age(7.01)
    recent = place(customer, sku, alice, "recent")
    age(6.9)  # "old" is now ~14 days old, "recent" ~7 days minus a little

    assert purge_idempotency_task() == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert place(customer, sku, alice, "recent") == recent  # still a retry
    assert place(customer, sku, alice, "old").order_id != old.order_id  # forgotten: a new order
    assert idempotency_records_purge() == 0


def test_the_command_purges_with_its_own_horizon(alice, customer, sku):
    place(customer, sku, alice, "a")
    age(2)
    place(customer, sku, alice, "b")
    out = StringIO()

    call_command("purge_idempotency_records", "--older-than-days", "1", stdout=out)

    assert "Deleted 1 idempotency record(s) older than 1 day(s)." in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["b"]


def test_the_worker_purges_every_hour():
    schedule = Schedule.objects.get(name=PURGE_SCHEDULE_NAME)  # made on migrate
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "orders_write.tasks.purge_idempotency_task",
        Schedule.HOURLY,
        -1,
    )


def test_the_migration_rescopes_existing_records_by_primary_key(alice):
    with service_write_scope():
        for scope, key in [(f"user:{alice.pk}:alice", "k1"), (f"user:{alice.pk}:old-name", "k1"), ("system", "k2")]:
            IdempotencyRecord.objects.create(
                scope=scope, key=key, request_fingerprint="f", order_id=1, version=1, position=1
            )
    migration = importlib.import_module("orders_write.migrations.0006_idempotency_scope_by_pk")

    historical = MigrationLoader(connection).project_state(("orders_write", "0005_outbox_timeline")).apps

    migration.scope_by_primary_key(historical, type("Editor", (), {"connection": connection})())

    assert sorted(IdempotencyRecord.objects.values_list("scope", "key")) == [
        ("system", "k2"),
        (f"user:{alice.pk}", "k1"),
    ]
