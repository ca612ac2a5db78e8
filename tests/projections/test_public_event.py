"""The public event's bytes: compact UTF-8 JSON, the same as the standard library would write."""

import json
import uuid
from datetime import UTC, datetime

from events.orders import LineSnapshot, OrderPlaced
from projections.store.events import StoredEvent
from projections.store.public import public_event, public_event_json


def stored_order(name: str) -> StoredEvent:
    placed = datetime(2026, 12, 3, 6, 30, 15, 123456, tzinfo=UTC)
    lines = tuple(
        LineSnapshot(sku=f"SKU-{n}", product_id=n, product_name=f"Tasse « {n} » ☕", quantity=n, unit_price=250,
                     line_total=250 * n)
        for n in (1, 2)
    )  # fmt: skip
    event = OrderPlaced(order_id=7, customer_id=3, placed_at=placed, currency="EUR", status="PENDING", subtotal=750,
                        discount=0, total=750, item_count=3, customer_name=name, lines=lines)  # fmt: skip
    return StoredEvent(timeline=1, txid=900, position=41, aggregate_type="order", aggregate_id=7, version=1,
                       occurred_at=placed, event=event, event_id=uuid.uuid4(), correlation_id=uuid.uuid4())  # fmt: skip


def test_the_bytes_are_what_the_standard_library_writes_compactly():
    stored = stored_order('Zoë "ZZ" Ødegård \\ 𝄞 \u2028')
    expected = json.dumps(public_event(stored, contacts=True), separators=(",", ":"), ensure_ascii=False).encode()
    assert public_event_json(stored, contacts=True) == expected


def test_the_bytes_read_back_as_the_public_event():
    stored = stored_order("Ann")
    event = json.loads(public_event_json(stored, contacts=True))
    assert event == public_event(stored, contacts=True)
    assert event["data"]["placed_at"] == "2026-12-03T06:30:15.123456+00:00"
    assert [line["line_total"] for line in event["data"]["lines"]] == [250, 500]
