"""The event contract: every event survives the outbox round trip; old versions are upcast."""

import dataclasses
from datetime import UTC, datetime

import pytest

from events import EVENT_TYPES, LineSnapshot, OrderPlaced, UnknownEventError, codec, decode, encode

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LINE = LineSnapshot(sku="A-1", product_id=7, product_name="Teapot", quantity=2, unit_price=1999, line_total=3998)


def sample(cls):
    """Build an instance of ``cls`` with a plausible value for every field."""
    values = {"lines": (LINE,), "line": LINE}
    kwargs = {}
    for field in dataclasses.fields(cls):
        hint = str(field.type)
        if field.name in values:
            kwargs[field.name] = values[field.name]
        elif "datetime" in hint:
            kwargs[field.name] = WHEN
        elif "int" in hint:
            kwargs[field.name] = 42
        else:
            kwargs[field.name] = f"{field.name}-text"
    return cls(**kwargs)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_round_trips_through_json(event_type):
    import json

    event = sample(EVENT_TYPES[event_type])
    payload = json.loads(json.dumps(encode(event)))
    assert decode(event_type, event.schema_version, payload) == event


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_the_compiled_encoder_gives_what_the_general_walk_gives(event_type):
    event = sample(EVENT_TYPES[event_type])
    encoded = encode(event)
    assert encoded == codec._to_json(event)
    assert list(encoded) == [field.name for field in dataclasses.fields(event)], "the field order is kept"
    assert all(type(item) is dict for value in encoded.values() if isinstance(value, list) for item in value)


def test_events_are_frozen():
    event = sample(OrderPlaced)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.total = 0


def test_unknown_type_and_future_version_are_refused():
    with pytest.raises(UnknownEventError, match="unknown event type"):
        decode("OrderTeleported", 1, {})
    with pytest.raises(UnknownEventError, match="newer than this code"):
        decode("OrderConfirmed", 2, {})


def test_old_payloads_are_upcast_step_by_step(monkeypatch):
    """Pretend OrderShipped is at v3 and stored v1 payloads lacked fields added since."""
    event = sample(EVENT_TYPES["OrderShipped"])
    v1 = encode(event)
    del v1["tracking_number"]
    monkeypatch.setattr(EVENT_TYPES["OrderShipped"], "schema_version", 3)
    monkeypatch.setitem(codec.UPCASTERS, ("OrderShipped", 1), lambda p: {**p, "tracking_number": ""})
    monkeypatch.setitem(
        codec.UPCASTERS, ("OrderShipped", 2), lambda p: {**p, "tracking_number": p["tracking_number"] or "unknown"}
    )
    assert decode("OrderShipped", 1, v1) == dataclasses.replace(event, tracking_number="unknown")
    monkeypatch.delitem(codec.UPCASTERS, ("OrderShipped", 2))
    with pytest.raises(UnknownEventError, match="no upcaster"):
        decode("OrderShipped", 1, v1)
