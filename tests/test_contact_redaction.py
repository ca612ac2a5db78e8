"""Contact data (customers' emails) leaves the write side only for holders of the contacts right:
the event feed, the outbox admin and the NATS bus null it for everyone else (ADR 0031). Webhook
endpoints are in tests/webhooks/test_contacts.py."""

import json

import pytest

from bus.config import bus
from bus.messages import message_of
from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, VIEW_EVENTS, VIEW_REPORTS
from events import EVENT_TYPES
from orders_write.models import OutboxEvent
from orders_write.services import customer_register
from projections.store import START
from projections.store.feed import read_page
from projections.store.public import public_event_json, without_contacts
from tests.admin.staff import login as staff
from tests.api.conftest import client_for, make_user

pytestmark = pytest.mark.django_db(transaction=True)
EMAIL = "ada.contact@example.com"


@pytest.fixture
def registered() -> int:
    return customer_register(name="Ada Lovelace", email=EMAIL).aggregate_id


def registrations_in_feed(*rights: str) -> list[dict]:
    response = client_for(make_user(*rights)).get("/api/events/?types=CustomerRegistered")
    assert response.status_code == 200, response.content
    return [event["data"] for event in response.json()["results"]]


def test_the_feed_shows_the_email_only_to_readers_holding_the_contacts_right(registered):
    (hidden,) = registrations_in_feed(VIEW_EVENTS)
    (hidden_from_reports,) = registrations_in_feed(VIEW_EVENTS, VIEW_REPORTS)
    assert hidden == hidden_from_reports == {"customer_id": registered, "name": "Ada Lovelace", "email": None}
    for rights in ((VIEW_EVENTS, MANAGE_CATALOG), (VIEW_EVENTS, MANAGE_ORDERS)):
        (shown,) = registrations_in_feed(*rights)
        assert shown["email"] == EMAIL


def test_the_outbox_admin_shows_the_email_only_to_staff_holding_the_contacts_right(registered):
    event = OutboxEvent.objects.get(event_type="CustomerRegistered", aggregate_id=registered)
    page = f"/admin/orders_write/outboxevent/{event.pk}/change/"

    reader = staff(VIEW_REPORTS).get(page)
    keeper = staff(VIEW_REPORTS, MANAGE_CATALOG).get(page)

    assert reader.status_code == keeper.status_code == 200
    assert b"Ada Lovelace" in reader.content and EMAIL.encode() not in reader.content
    assert EMAIL.encode() in keeper.content


def test_the_bus_carries_the_email_only_when_the_operator_says_so(registered, settings):
    (stored,) = read_page(after=START, event_types=frozenset({"CustomerRegistered"}), limit=10).events
    assert json.loads(message_of(stored, bus()).body)["data"]["email"] is None  # off by default

    settings.NATS_INCLUDE_CONTACTS = True
    assert json.loads(message_of(stored, bus()).body)["data"]["email"] == EMAIL


def test_redacting_stored_bytes_gives_the_bytes_written_without_contacts(registered):
    (stored,) = read_page(after=START, event_types=frozenset({"CustomerRegistered"}), limit=10).events
    with_email = public_event_json(stored, contacts=True)

    assert EMAIL.encode() in with_email
    assert without_contacts(with_email, "CustomerRegistered") == public_event_json(stored, contacts=False)
    assert [name for name, cls in EVENT_TYPES.items() if cls.contact_fields] == ["CustomerRegistered"]
