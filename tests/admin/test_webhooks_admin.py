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


def assert_shown_once_on_a_never_cached_page(client, response, secrets: list[str]) -> None:
    """The secrets are on this page only: not cached, not in a message (cookie or session), not on the next page."""
    assert response.status_code == 200
    page = response.content.decode()
    for secret in secrets:
        assert f'<code class="signing-secret">{secret}</code>' in page
    assert {"no-cache", "no-store", "must-revalidate", "private"} <= {
        part.strip().split("=")[0] for part in response["Cache-Control"].split(",")
    }
    assert "messages" not in response.cookies, "no message carries anything of this answer"
    assert "_messages" not in client.session
    later = client.get(ENDPOINTS).content.decode()
    for secret in secrets:
        assert secret not in later


def test_an_endpoint_added_in_the_admin_shows_its_secret_once_on_a_never_cached_page(customer):
    client = login(MANAGE_WEBHOOKS)
    response = client.post(
        f"{ENDPOINTS}add/",
        {"url": "http://127.0.0.1:9/from-admin", "event_types": '["OrderPlaced"]', "description": "", "enabled": "on"},
    )
    endpoint = WebhookEndpoint.objects.get(url="http://127.0.0.1:9/from-admin")
    assert endpoint.event_types == ["OrderPlaced"]
    assert_shown_once_on_a_never_cached_page(client, response, [endpoint.secret])


def test_a_rotation_in_the_admin_shows_the_new_secrets_once_on_a_never_cached_page():
    first = create_endpoint(webhook_client(), "http://127.0.0.1:9/first")
    second = create_endpoint(webhook_client(), "http://127.0.0.1:9/second")
    client = login(MANAGE_WEBHOOKS)
    response = client.post(
        ENDPOINTS, {"action": "rotate_secret", "_selected_action": [first["webhook_id"], second["webhook_id"]]}
    )
    rotated = [WebhookEndpoint.objects.get(pk=created["webhook_id"]) for created in (first, second)]
    assert [endpoint.previous_secret for endpoint in rotated] == [first["secret"], second["secret"]]
    assert_shown_once_on_a_never_cached_page(client, response, [endpoint.secret for endpoint in rotated])


def test_staff_drop_a_rotated_out_secret_at_once():
    created = create_endpoint(webhook_client(), "http://127.0.0.1:9/leaked")
    webhook_client().post(f"/api/webhooks/{created['webhook_id']}/rotate-secret/")
    client = login(MANAGE_WEBHOOKS)
    response = client.post(
        ENDPOINTS, {"action": "drop_previous_secret", "_selected_action": [created["webhook_id"]]}, follow=True
    )
    assert "1 endpoints now sign with their current secret only" in response.content.decode()
    endpoint = WebhookEndpoint.objects.get(pk=created["webhook_id"])
    assert endpoint.previous_secret == "" and endpoint.previous_secret_expires_at is None
    assert endpoint.secret != created["secret"]


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
