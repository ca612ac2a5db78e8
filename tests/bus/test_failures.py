"""The relay when things go wrong: NATS down, a message JetStream refuses, a stream set up wrongly.

NATS down is the receiver's fault: nothing is parked, the relay backs off and says so, and it
catches up in commit order once NATS is back. A refused message is one order's fault: that
stream alone is parked, every other order flows.
"""

import asyncio
import dataclasses
import time

import nats
import pytest
from django.core.cache import cache

from bus.config import bus
from bus.messages import MSG_ID, message_of
from config.databases import read_alias
from orders_write.services import LineInput, order_confirm, order_place, product_add
from projections.models import ParkedStream
from projections.runtime import parking, receivers
from projections.runtime.apply import batches
from projections.runtime.backoff import Backoff
from projections.runtime.loop import drain, drain_all
from projections.runtime.status import ConsumerHealth, consumer_health
from projections.store import START
from tests.bus.conftest import stream_messages, use_bus
from tests.bus.shop import seed_shop

pytestmark = pytest.mark.django_db(transaction=True)


def health(name: str) -> ConsumerHealth:
    return next(row for row in consumer_health() if row.name == name)


def outbox_ids(relay) -> list[str]:
    batches_ = batches(after=START, event_types=relay.event_types(), limit=500)
    return [str(event.event_id) for batch in batches_ for event in batch.events]


@pytest.fixture
def relay_on_private_nats(settings, private_nats, session_stream, transactional_db):
    from tests.read_tables import empty_read_tables

    empty_read_tables()
    relay = use_bus(settings, private_nats.url, session_stream)
    yield relay, private_nats
    relay.close()


def let_the_backoff_pass(name: str) -> None:
    """Make the receiver's retry due now, as the clock would once its backoff ran out."""
    record = receivers.down(name)
    due = dataclasses.replace(record, retry_at=time.time())
    cache.set(receivers._key(name), dataclasses.asdict(due), timeout=receivers.RECORD_TIMEOUT_SECONDS)


def test_nats_down_backs_off_reports_its_state_parks_nothing_then_catches_up(relay_on_private_nats, monkeypatch):
    # A backoff long enough that no step below outruns it on a busy machine; the test lets it pass
    # by hand (let_the_backoff_pass) instead of sleeping.
    monkeypatch.setattr(receivers, "BACKOFF", Backoff(first=30.0, cap=600.0))
    relay, server = relay_on_private_nats
    seed_shop(tag="before", orders=3)
    assert drain("nats") > 0
    server.stop()
    seed_shop(tag="during", orders=5)

    applied = drain_all()
    assert applied["nats"] == 0
    assert applied["order_views"] > 0 and applied["sales"] > 0  # the projections are unaffected
    row = health("nats")
    assert row.state == "receiver_unavailable"
    assert "NATS at" in row.last_error and row.lag_events > 0
    assert not ParkedStream.objects.using(read_alias()).exists()  # not any stream's fault
    assert {health(name).state for name in ("order_views", "sales")} == {"idle"}

    first = receivers.down("nats")
    assert first.failures == 1 and first.retry_at - first.since == pytest.approx(30.0)
    assert drain("nats") == 0
    assert receivers.down("nats") == first  # backing off: no new attempt before retry_at
    let_the_backoff_pass("nats")
    tried, _, tried_by = time.time(), drain("nats"), time.time()
    second = receivers.down("nats")
    assert second.failures == 2 and second.since == first.since
    assert second.retry_at - tried_by <= 60.0 <= second.retry_at - tried, "the wait doubled"

    server.start()
    assert drain("nats") == 0 and receivers.down("nats") == second, "still backing off, though NATS is back"
    let_the_backoff_pass("nats")
    assert drain("nats") > 0
    assert receivers.down("nats") is None
    assert health("nats").state == "idle"
    assert [m.headers[MSG_ID] for m in stream_messages()] == outbox_ids(relay)  # every event, once, in order


def _update_stream(url: str, **changes) -> None:
    async def update():
        client = await nats.connect(url, connect_timeout=2)
        try:
            js = client.jetstream()
            info = await js.stream_info(bus().stream)
            await js.update_stream(dataclasses.replace(info.config, **changes))
        finally:
            await client.close()

    asyncio.run(update())


def test_a_message_jetstream_refuses_parks_that_order_only(nats_relay, customer, caplog):
    skus = [f"BIG-{n}" for n in range(25)]
    for sku in skus:
        product_add(sku=sku, name="a product with a rather long name " * 3, price=100)
    small = [order_place(customer_id=customer, lines=[LineInput(skus[0], 1)]).order_id for _ in range(3)]
    assert drain("nats") > 0  # connected: the relay knows the stream's limit (none) from here on
    big = order_place(customer_id=customer, lines=[LineInput(sku, 1) for sku in skus]).order_id
    later = [order_place(customer_id=customer, lines=[LineInput(skus[1], 1)]).order_id for _ in range(2)]
    for order_id in [*small, *later]:
        order_confirm(order_id=order_id)
    sizes = {
        e.aggregate_id: message_of(e, bus()).size
        for b in batches(after=START, event_types={"OrderPlaced"}, limit=500)
        for e in b.events
    }
    limit = (sizes[big] + max(size for order_id, size in sizes.items() if order_id != big)) // 2
    _update_stream(bus().url, max_msg_size=limit)  # JetStream itself refuses the big order from now on

    drain("nats")
    parked = ParkedStream.objects.using(read_alias()).get(projection="nats")
    assert (parked.aggregate_type, parked.aggregate_id) == ("order", big)
    assert "message size exceeds maximum allowed" in caplog.text  # JetStream's own refusal...
    assert f"{sizes[big]} bytes" in parked.error  # ...after which the relay checks sizes itself
    landed = {(m.subject.split(".")[-1], m.headers[MSG_ID]) for m in stream_messages()}
    delivered_orders = [e for e in _order_events() if e.aggregate_id != big]
    assert {str(e.event_id) for e in delivered_orders} <= {msg_id for _, msg_id in landed}
    assert not any(e.aggregate_id == big for e in _order_events() if str(e.event_id) in dict(landed).values())
    assert health("nats").state == "parked"
    assert all(health(name).parked == 0 for name in ("order_views", "sales"))

    order_confirm(order_id=big)  # held back behind the parked event, in version order
    parking.release(projection="nats", order_id=big, using=read_alias())
    drain("nats")  # the relay now checks the size itself before sending anything
    retried = ParkedStream.objects.using(read_alias()).get(projection="nats")
    assert (retried.attempts, retried.state) == (1, ParkedStream.RETRYING)  # released with 0, failed once more

    _update_stream(bus().url, max_msg_size=-1)
    parking.release(projection="nats", order_id=big, using=read_alias())
    drain("nats")
    assert not ParkedStream.objects.using(read_alias()).exists()
    big_versions = [int(m.headers["Position"]) for m in stream_messages(f"{bus().prefix}.order.>")
                    if m.data and f'"aggregate_id":{big},' in m.data.decode()]  # fmt: skip
    assert len(big_versions) == 2 and big_versions == sorted(big_versions)  # placed, then confirmed
    assert [m.headers[MSG_ID] for m in stream_messages()].count(str(_order_events()[-1].event_id)) == 1


def _order_events() -> list:
    return [e for b in batches(after=START, event_types={"OrderPlaced", "OrderConfirmed"}, limit=500) for e in b.events]


def test_the_relay_refuses_a_stream_whose_duplicate_window_is_too_short(nats_relay, make_order):
    _update_stream(bus().url, duplicate_window=30.0)
    nats_relay.close()  # the next connection checks the stream again
    make_order()

    assert drain("nats") == 0
    row = health("nats")
    assert row.state == "receiver_unavailable"
    assert "duplicate window (30 s)" in row.last_error and "nats_setup" in row.last_error
    assert not ParkedStream.objects.using(read_alias()).exists()
    assert stream_messages() == []
