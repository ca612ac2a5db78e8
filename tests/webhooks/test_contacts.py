"""A webhook endpoint receives contact data only while its owner (who created or last changed it)
holds the contacts right (ADR 0031): pointing an endpoint elsewhere and replaying never sends
customers' emails to a user who may not read them."""

import pytest

from config.rights import MANAGE_CATALOG, MANAGE_WEBHOOKS
from orders_write.services import customer_register
from tests.api.conftest import client_for, make_user
from tests.webhooks.helpers import create_endpoint, run_until
from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)
EMAIL = "grace.contact@example.com"


def emails_received(receiver: Receiver) -> list:
    return [request.event["data"]["email"] for request in receiver.requests]


def test_an_endpoint_gets_the_email_only_when_its_creator_holds_the_contacts_right(private_targets, receiver):
    second = Receiver().start()
    try:
        create_endpoint(client_for(make_user(MANAGE_WEBHOOKS)), receiver.url, ["CustomerRegistered"])
        create_endpoint(client_for(make_user(MANAGE_WEBHOOKS, MANAGE_CATALOG)), second.url, ["CustomerRegistered"])
        customer_register(name="Grace Hopper", email=EMAIL)

        run_until(lambda: len(receiver.accepted()) == 1 and len(second.accepted()) == 1)

        assert emails_received(receiver) == [None]
        assert emails_received(second) == [EMAIL]
    finally:
        second.stop()


def test_pointing_an_endpoint_elsewhere_and_replaying_sends_no_email(private_targets, receiver):
    keeper = client_for(make_user(MANAGE_WEBHOOKS, MANAGE_CATALOG))
    endpoint = create_endpoint(keeper, receiver.url, ["CustomerRegistered"])
    customer_register(name="Grace Hopper", email=EMAIL)
    run_until(lambda: len(receiver.accepted()) == 1)
    assert emails_received(receiver) == [EMAIL]

    elsewhere = Receiver().start()
    try:
        intruder = client_for(make_user(MANAGE_WEBHOOKS))
        path = f"/api/webhooks/{endpoint['webhook_id']}/"
        assert intruder.patch(path, {"url": elsewhere.url}, format="json").status_code == 200
        assert intruder.post(f"{path}replay/", {"from_position": 1}, format="json").status_code == 202

        run_until(lambda: len(elsewhere.accepted()) == 1)
        assert emails_received(elsewhere) == [None]
        assert all(EMAIL.encode() not in bytes(body) for body in WebhookDelivery.objects.values_list("body", flat=True))
    finally:
        elsewhere.stop()
