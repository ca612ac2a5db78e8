"""Webhook pages in the admin: endpoints (secret shown once, never after), the delivery log, resend.

Endpoints are created through the API and deliveries queued by the real fan-out relay; every
page needs ``manage_webhooks``.
"""

import pytest

from config.rights import MANAGE_WEBHOOKS
from orders_write.services import LineInput, order_place
from projections.runtime.loop import drain
from tests.admin.staff import login
from tests.read_tables import empty_read_tables
from tests.webhooks.helpers import create_endpoint, webhook_client
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


@pytest.fixture(autouse=True)
def setup(settings, transactional_db):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    empty_read_tables()


def queued_deliveries(customer: int, sku: str, count: int) -> dict:
    endpoint = create_endpoint(webhook_client(), "http://127.0.0.1:9/hooks", ["OrderPlaced"])
    for _ in range(count):
        order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    drain("webhooks")
    assert WebhookDelivery.objects.count() == count
    return endpoint


def test_the_pages_need_manage_webhooks():
    client = login()
    for page in (ENDPOINTS, DELIVERIES):
        assert client.get(page).status_code == 403
    assert login(MANAGE_WEBHOOKS).get(ENDPOINTS).status_code == 200


def test_the_endpoint_list_shows_endpoints_never_their_secret_and_announces_disabled_ones():
    healthy = create_endpoint(webhook_client(), "http://127.0.0.1:9/healthy")
    broken = create_endpoint(webhook_client(), "http://127.0.0.1:9/broken")
    reason = "disabled at 2026-12-01 10:00 UTC: every delivery failed since 2026-11-28 10:00 UTC"
    WebhookEndpoint.objects.filter(pk=broken["webhook_id"]).update(enabled=False, disabled_reason=reason)
    client = login(MANAGE_WEBHOOKS)

    page = client.get(ENDPOINTS).content.decode()
    assert "http://127.0.0.1:9/healthy" in page and "http://127.0.0.1:9/broken" in page
    assert f"Webhook endpoint #{broken['webhook_id']} http://127.0.0.1:9/broken: {reason}" in page
    assert page.count("every delivery failed since") == 2, "the notice, and the reason column of its row"
    change = client.get(f"{ENDPOINTS}{healthy['webhook_id']}/change/").content.decode()
    for text in (page, change):
        assert healthy["secret"] not in text and broken["secret"] not in text


def test_an_endpoint_added_in_the_admin_shows_its_secret_once(customer):
    client = login(MANAGE_WEBHOOKS)
    response = client.post(
        f"{ENDPOINTS}add/",
        {"url": "http://127.0.0.1:9/from-admin", "event_types": '["OrderPlaced"]', "description": "", "enabled": "on"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get(url="http://127.0.0.1:9/from-admin")
    assert f"Signing secret (shown only now, keep it): {endpoint.secret}" in response.content.decode()
    assert endpoint.event_types == ["OrderPlaced"]
    assert endpoint.secret not in client.get(ENDPOINTS).content.decode()


def test_the_delivery_log_lists_deliveries_and_resend_queues_them_again(customer, sku):
    endpoint = queued_deliveries(customer, sku, 3)
    failed, other, _ = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk__in=[failed.pk, other.pk]).update(state="failed", attempts=7, error="HTTP 500")
    client = login(MANAGE_WEBHOOKS)

    page = client.get(f"{DELIVERIES}?state__exact=failed").content.decode()
    assert page.count("HTTP 500") == 2 and "#" + str(endpoint["webhook_id"]) in page
    assert f'href="/admin/webhooks/webhookdelivery/{failed.pk}/change/' in page
    response = client.post(
        DELIVERIES, {"action": "resend", "_selected_action": [failed.pk]}, follow=True
    ).content.decode()
    assert "1 deliveries queued again" in response
    failed.refresh_from_db()
    other.refresh_from_db()
    assert failed.state == "pending" and failed.next_attempt_at <= failed.first_queued_at
    assert other.state == "failed", "only the selected one"
    detail = client.get(f"{DELIVERIES}{failed.pk}/change/")
    assert detail.status_code == 200 and 'name="body"' not in detail.content.decode()
