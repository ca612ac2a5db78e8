"""Adding a projection is one module and one line in ``settings.CONSUMERS``.

``tests/projections/toy.py`` declares a projection with a read table of its own; with nothing
else changed, the drain, parking, retry, status, verify, rebuild and the admin's health page
all serve it.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from orders_write.services import LineInput, order_cancel, order_confirm, order_place
from projections.models import ParkedStream
from projections.runtime.loop import drain_all
from projections.runtime.rebuild import rebuild
from projections.runtime.status import ConsumerHealth, consumer_health
from projections.runtime.verify import verify
from tests.projections import toy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def toy_projection(settings):
    with connection.cursor() as cursor:
        cursor.execute(toy.DDL)
    settings.CONSUMERS = [*settings.CONSUMERS, "tests.projections.toy.ToyStatus"]
    yield
    toy.POISONED.clear()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS toy_order_status")


def statuses() -> dict[int, str]:
    return dict(toy.ToyOrderStatus.objects.values_list("order_id", "status"))


def state() -> ConsumerHealth:
    return next(row for row in consumer_health() if row.name == "toy_status")


def test_a_new_projection_is_drained_parked_verified_rebuilt_and_shown(toy_projection, customer, sku, admin_client):
    placed = [order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id for _ in range(3)]
    order_confirm(order_id=placed[0])
    toy.POISONED.add(placed[2])
    order_cancel(order_id=placed[2], reason="changed mind")

    drain_all()
    assert statuses() == {placed[0]: "CONFIRMED", placed[1]: "PENDING"}
    assert ParkedStream.objects.get(projection="toy_status").aggregate_id == placed[2]
    assert state().state == "parked" and state().parked == 1
    page = admin_client.get(reverse("admin:projections_projectionhealth_changelist"))
    assert page.status_code == 200 and "toy_status" in page.content.decode()

    toy.POISONED.clear()
    call_command("retry_parked", projection="toy_status")
    drain_all()
    assert statuses() == {placed[0]: "CONFIRMED", placed[1]: "PENDING", placed[2]: "CANCELLED"}
    assert state().state == "idle" and state().lag_events == 0
    assert verify("toy_status") == []

    with connection.cursor() as cursor:
        cursor.execute("UPDATE toy_order_status SET status = 'LOST' WHERE order_id = %s", [placed[1]])
    assert verify("toy_status")[0].startswith("toy_order_status: 1 row(s) not in a rebuild")

    result = rebuild("toy_status")
    assert result.events == 5  # 3 placed, 1 confirmed, 1 cancelled
    assert statuses()[placed[1]] == "PENDING" and verify("toy_status") == []
