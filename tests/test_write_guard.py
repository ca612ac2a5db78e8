"""Write-side models refuse every write path that bypasses a domain service (and its outbox)."""

from datetime import UTC, datetime

import pytest

from orders_write.models import Customer, Order, OrderLine, OutboxEvent, Product, WriteOutsideServiceError
from orders_write.models.guard import service_write_scope
from orders_write.models.inserts import insert_instances, insert_rows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda o: o.save(), id="save"),
        pytest.param(lambda o: o.delete(), id="delete"),
        pytest.param(lambda o: type(o).objects.filter(pk=o.pk).update(version=99), id="queryset-update"),
        pytest.param(lambda o: type(o).objects.filter(pk=o.pk).delete(), id="queryset-delete"),
        pytest.param(lambda o: type(o).objects.bulk_update([o], ["version"]), id="bulk-update"),
    ],
)
@pytest.mark.parametrize("model", [Customer, Product, Order], ids=lambda m: m.__name__)
def test_existing_rows_cannot_be_changed_outside_a_service(make_order, model, write):
    make_order()
    instance = model.objects.first()
    before = model.objects.filter(pk=instance.pk).values().get()
    with pytest.raises(WriteOutsideServiceError, match="outside a domain service"):
        write(instance)
    assert model.objects.filter(pk=instance.pk).values().get() == before


@pytest.mark.parametrize(
    "create",
    [
        pytest.param(lambda: Customer.objects.create(name="x", email="x@example.com"), id="create"),
        pytest.param(lambda: Customer.objects.bulk_create([Customer(name="x", email="x@example.com")]), id="bulk"),
        pytest.param(lambda: Customer.objects.get_or_create(email="x@example.com"), id="get_or_create"),
        pytest.param(lambda: insert_instances([Customer(name="x", email="x@example.com")]), id="insert_instances"),
        pytest.param(lambda: insert_rows(Customer, ["name", "email"], [["x", "x@example.com"]]), id="insert_rows"),
    ],
)
def test_rows_cannot_be_created_outside_a_service(create):
    with pytest.raises(WriteOutsideServiceError):
        create()
    assert Customer.objects.count() == 0


def test_lines_and_outbox_are_guarded_too(make_order):
    make_order()
    with pytest.raises(WriteOutsideServiceError):
        OrderLine.objects.all().update(quantity=5)
    with pytest.raises(WriteOutsideServiceError):
        OutboxEvent.objects.all().delete()
    assert OutboxEvent.objects.count() == 3  # customer, product, order


def test_outbox_rows_are_append_only_even_inside_a_service(make_order):
    from orders_write.models.guard import service_write_scope

    make_order()
    event = OutboxEvent.objects.first()
    event.payload = {"tampered": True}
    with service_write_scope(), pytest.raises(ValueError, match="append-only"):
        event.save()


def test_insert_instances_writes_what_the_orm_would_and_gives_each_its_key():
    """The hot path's raw insert: field defaults and conversions as ``bulk_create``, keys in order."""
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    made = [Customer(name=f"Ada {n}", email=f"ada{n}@example.com", created_at=at, updated_at=at) for n in range(3)]
    reference = Customer(name="Ref", email="ref@example.com", created_at=at, updated_at=at)
    with service_write_scope():
        insert_instances(made)
        Customer.objects.bulk_create([reference])
    stored = {row["id"]: row for row in Customer.objects.values()}
    assert [stored[c.pk]["email"] for c in made] == [f"ada{n}@example.com" for n in range(3)]
    assert all(not c._state.adding for c in made)
    same_except_identity = {"id", "name", "email"}
    assert {k: v for k, v in stored[made[0].pk].items() if k not in same_except_identity} == {
        k: v for k, v in stored[reference.pk].items() if k not in same_except_identity
    }
