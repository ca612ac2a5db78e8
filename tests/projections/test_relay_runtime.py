"""A relay on the runtime: delivered at least once, each order in version order, keyed by event id.

The toy relay's receiver refuses one order: that stream is parked while every other order is
delivered (some twice: the refused batch had delivered part of itself), and once the receiver
takes it again the parked stream is delivered in version order.
"""

import pytest

from config.databases import read_alias
from orders_write.services import LineInput, order_confirm, order_place
from projections.models import Checkpoint, ParkedStream
from projections.runtime import parking
from projections.runtime.loop import drain
from tests.projections import toy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def relay(settings):
    settings.CONSUMERS = [*settings.CONSUMERS, "tests.projections.toy.ToyRelay"]
    toy.ToyRelay.delivered.clear()
    yield toy.ToyRelay
    toy.ToyRelay.refusing.clear()


def test_a_refused_stream_is_parked_then_redelivered_and_nothing_is_lost(relay, customer, sku, settings):
    placed = [order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id for _ in range(4)]
    for order_id in placed:
        order_confirm(order_id=order_id)
    relay.refusing.add(placed[1])

    drain("toy_relay")
    assert ParkedStream.objects.get(projection="toy_relay").aggregate_id == placed[1]
    delivered = {(order_id, version) for _, order_id, version in relay.delivered}
    assert delivered == {(o, v) for o in placed if o != placed[1] for v in (1, 2)}
    assert len(relay.delivered) > len(delivered), "at least once: the refused batch's first events went twice"

    relay.refusing.clear()
    parking.release(projection="toy_relay", order_id=placed[1], using=read_alias())
    drain("toy_relay")
    assert not ParkedStream.objects.filter(projection="toy_relay").exists()
    per_order = {}
    for _, order_id, version in relay.delivered:
        per_order.setdefault(order_id, []).append(version)
    assert all(versions == sorted(versions) for versions in per_order.values()), per_order
    assert {order_id: sorted(set(v)) for order_id, v in per_order.items()} == {o: [1, 2] for o in placed}
    assert len({event_id for event_id, _, _ in relay.delivered}) == 8  # receivers de-duplicate by event id
    assert Checkpoint.objects.get(projection="toy_relay").last_position >= max(placed)
