"""The NATS relay against a real nats-server: each event lands once, in commit order, on its subject.

Every check reads the stream back and compares it with the outbox as the runtime reads it
(commit order), so a lost, duplicated or reordered message fails the test.
"""

import json

import pytest
from django.core.management import call_command
from prometheus_client import REGISTRY

from bus.messages import CORRELATION_ID, EVENT_TYPE, MSG_ID, POSITION
from config.databases import read_alias
from projections.models import Checkpoint
from projections.runtime.apply import batches
from projections.runtime.loop import drain
from projections.runtime.status import consumer_health
from projections.store import START
from projections.store.public import public_event_json
from tests.bus.conftest import stream_messages
from tests.bus.shop import seed_shop

pytestmark = pytest.mark.django_db(transaction=True)


def outbox_in_commit_order(relay) -> list:
    return [
        event for batch in batches(after=START, event_types=relay.event_types(), limit=500) for event in batch.events
    ]


def published_so_far() -> float:
    return REGISTRY.get_sample_value("orders_bus_publishes_total", {"outcome": "published"}) or 0.0


def test_every_event_of_a_seeded_shop_lands_once_in_commit_order(nats_relay):
    seed_shop()
    outbox = outbox_in_commit_order(nats_relay)
    published_before = published_so_far()

    assert drain("nats", batch_size=7) == len(outbox)  # small batches: many acks, several batches
    assert published_so_far() - published_before == len(outbox)  # orders_bus_publishes_total counts each one

    messages = stream_messages()
    assert [m.headers[MSG_ID] for m in messages] == [str(e.event_id) for e in outbox]
    prefix = nats_relay_prefix()
    for message, stored in zip(messages, outbox, strict=True):
        assert message.data == public_event_json(stored, contacts=False)
        assert message.subject == f"{prefix}.{stored.aggregate_type}.{stored.event.event_type}"
        assert message.headers[EVENT_TYPE] == stored.event.event_type
        assert message.headers[POSITION] == str(stored.position)
        assert message.headers.get(CORRELATION_ID) == (str(stored.correlation_id) if stored.correlation_id else None)
    versions: dict = {}
    for message in messages:
        event = json.loads(message.data)
        versions.setdefault((event["aggregate_type"], event["aggregate_id"]), []).append(event["aggregate_version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values()), versions
    assert {kind for kind, _ in versions} == {"customer", "product", "order"}
    health = next(row for row in consumer_health() if row.name == "nats")
    assert (health.kind, health.state, health.lag_events) == ("relay", "idle", 0)


def nats_relay_prefix() -> str:
    from django.conf import settings

    return settings.NATS_SUBJECT_PREFIX


def test_a_batch_republished_after_the_checkpoint_is_rolled_back_adds_no_message(nats_relay):
    seed_shop(orders=6)
    published = drain("nats")
    assert len(stream_messages()) == published > 0

    Checkpoint.objects.using(read_alias()).filter(projection="nats").update(last_txid=0, last_position=0)
    assert drain("nats") == published  # every event published a second time...

    messages = stream_messages()
    assert len(messages) == published  # ...and JetStream dropped each by its Nats-Msg-Id
    assert len({m.headers[MSG_ID] for m in messages}) == published


def test_a_subject_filter_takes_only_shipped_orders(nats_relay):
    seed_shop()
    drain("nats")
    shipped_subject = f"{nats_relay_prefix()}.order.OrderShipped"
    shipped = [e for e in outbox_in_commit_order(nats_relay) if e.event.event_type == "OrderShipped"]
    assert shipped

    messages = stream_messages(shipped_subject)
    assert [m.headers[MSG_ID] for m in messages] == [str(e.event_id) for e in shipped]
    assert {m.subject for m in messages} == {shipped_subject}


def test_nats_tail_prints_events_from_a_durable_consumer_and_resumes(nats_relay, capsys):
    seed_shop(orders=4)
    drain("nats")
    subject = f"{nats_relay_prefix()}.order.OrderShipped"
    shipped = [e for e in outbox_in_commit_order(nats_relay) if e.event.event_type == "OrderShipped"]
    durable = f"tail_{nats_relay_prefix().split('.')[0]}"

    call_command("nats_tail", subject=subject, durable=durable, count=1, json=True)
    first = capsys.readouterr().out.splitlines()
    call_command("nats_tail", subject=subject, durable=durable, idle=1.0)
    rest = capsys.readouterr().out.splitlines()

    assert [json.loads(line)["event_id"] for line in first] == [str(shipped[0].event_id)]
    assert [line.split()[-1] for line in rest] == [str(e.event_id) for e in shipped[1:]]
