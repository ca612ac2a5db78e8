"""The webhook API: endpoints, the secret shown once, SSRF refusals, the delivery log, resend, replay."""

import pytest

from orders_write.services import LineInput, order_confirm, order_place
from projections.runtime.loop import drain
from tests.api.conftest import client_for, make_user
from tests.webhooks.helpers import create_endpoint, run_until, webhook_client
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookReplay
from webhooks.services import replay_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_endpoint_is_created_changed_listed_and_deleted_and_its_secret_shown_once(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    client = webhook_client()
    created = create_endpoint(client, "http://127.0.0.1:9/hooks", ["OrderShipped"])
    assert created["secret"].startswith("whsec_") and created["event_types"] == ["OrderShipped"]
    url = f"/api/webhooks/{created['webhook_id']}/"

    changed = client.patch(url, {"enabled": False, "description": "erp"}, format="json").json()
    assert changed["enabled"] is False and changed["description"] == "erp"
    for body in (client.get(url).json(), client.get("/api/webhooks/").json()["results"][0]):
        assert "secret" not in body and created["secret"] not in str(body)
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::1]/hooks", "loopback"),
        ("https://localhost/hooks", "localhost must resolve, and to public addresses only"),  # a name
        ("https://10.1.2.3/hooks", "private"),
        ("http://example.com/hooks", "scheme must be https"),
        ("https://user:pw@example.com/", "credentials"),
    ],
)
def test_private_targets_and_plain_http_are_refused_with_a_400(url, reason):
    response = webhook_client().post("/api/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error" and reason in error["details"]["url"][0]
    if "localhost" in url:
        assert "127.0.0.1" not in error["details"]["url"][0], "a name's refusal never says what it resolved to"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[2002:a00:1::1]/hooks", "embedding a private address"),  # 6to4 of 10.0.0.1
        ("https://[2002:a9fe:a9fe::1]/hooks", "embedding a link-local"),  # 6to4 of 169.254.169.254
        ("https://[fec0::1]/hooks", "site-local"),
        ("https://[64:ff9b::a9fe:a9fe]/hooks", "embedding a link-local"),  # NAT64 of the metadata address
        ("https://[64:ff9b:1::a00:1]/hooks", "local-use NAT64"),
        ("https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hooks", "private"),  # Teredo, client 10.0.0.1
        ("https://[::ffff:a9fe:a9fe]/hooks", "embedding a link-local"),  # IPv4-mapped
        ("https://[::a00:1]/hooks", "embedding a private address"),  # IPv4-compatible
    ],
)
def test_ipv6_forms_of_private_ipv4_addresses_and_site_local_ones_are_refused(url, reason):
    response = webhook_client().post("/api/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error" and reason in error["details"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://93.184.215.14/hooks", True),
        ("https://93.184.215.14:8443/hooks", True),
        ("https://[64:ff9b::5db8:d70e]/hooks", True),  # NAT64 of a public address (DNS64 networks)
        ("https://93.184.215.14:22/hooks", False),  # below 1024, not 80 or 443
        ("https://93.184.215.14:6379/hooks", False),  # Redis
        ("https://93.184.215.14:5432/hooks", False),  # PostgreSQL
        ("https://93.184.215.14:2379/hooks", False),  # etcd
    ],
)
def test_the_default_port_policy(url, allowed):
    response = webhook_client().post("/api/webhooks/", {"url": url}, format="json")
    assert response.status_code == (201 if allowed else 400), response.json()
    if not allowed:
        assert "is not allowed for webhooks" in response.json()["error"]["details"]["url"][0]
        assert not WebhookEndpoint.objects.exists()


def test_webhook_allowed_ports_replaces_the_default_policy(settings):
    settings.WEBHOOK_ALLOWED_PORTS = ((443, 443), (9000, 9100))
    client = webhook_client()
    for url, status in (
        ("https://93.184.215.14/hooks", 201),
        ("https://93.184.215.14:9050/hooks", 201),
        ("https://93.184.215.14:8443/hooks", 400),
        ("https://93.184.215.14:9101/hooks", 400),
    ):
        assert client.post("/api/webhooks/", {"url": url}, format="json").status_code == status, url
    assert WebhookEndpoint.objects.count() == 2


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://169.254.169.254/", "http://[::1]/"])
def test_with_debug_http_is_allowed_but_private_addresses_are_not(settings, url):
    settings.DEBUG = True
    response = webhook_client().post("/api/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400 and " is a " in response.json()["error"]["details"]["url"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "https://example.com/", "event_types": ["Nope"]}, "event_types[0]"),
        ({"url": "https://example.com/", "colour": "red"}, "colour"),
        ({}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(body, field):
    response = webhook_client().post("/api/webhooks/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "", {"url": "http://127.0.0.1:9/hooks", "enabled": "no"}, "enabled"),
        ("post", "", {"url": "http://127.0.0.1:9/hooks", "description": 5}, "description"),
        ("post", "", {"url": "http://127.0.0.1:9/hooks", "event_types": "OrderShipped"}, "event_types"),
        ("patch", "{id}/", {"enabled": 0}, "enabled"),
        ("patch", "{id}/", {"description": ["erp"]}, "description"),
        ("patch", "{id}/", {"colour": "red"}, "colour"),
        ("post", "{id}/replay/", {"from_position": "0"}, "from_position"),
        ("post", "{id}/replay/", {"from_time": "20240101"}, "from_time"),
    ],
)
def test_a_value_the_schema_does_not_allow_is_a_400_naming_its_field_and_changes_nothing(
    settings, method, path, body, field
):
    """The webhook changes take strict input as every other command does: DRF would read ``"no"`` as false."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    client = webhook_client()
    endpoint = create_endpoint(client, "http://127.0.0.1:9/existing")
    url = "/api/webhooks/" + path.format(id=endpoint["webhook_id"])

    response = getattr(client, method)(url, body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["details"], error
    assert list(WebhookEndpoint.objects.values_list("url", "description", "enabled")) == [
        ("http://127.0.0.1:9/existing", "", True)
    ]
    assert not WebhookReplay.objects.exists()


def test_webhooks_need_the_manage_webhooks_right(transactional_db):
    assert client_for(make_user()).get("/api/webhooks/").status_code == 403
    assert client_for(None).post("/api/webhooks/", {}, format="json").status_code == 401


def test_a_redirect_is_not_followed(private_targets, receiver, customer, sku):
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    create_endpoint(webhook_client(), receiver.url, ["OrderPlaced"])
    order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    run_until(lambda: WebhookDelivery.objects.filter(attempts__gte=1).exists())
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.status_code == 302
    assert delivery.error == "HTTP 302: redirects are not followed"


def test_a_target_turned_private_is_refused_at_delivery_time(private_targets, settings, receiver, customer, sku):
    create_endpoint(webhook_client(), receiver.url, ["OrderPlaced"])
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.DEBUG = True  # http allowed: the address is what is refused
    order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    run_until(lambda: WebhookDelivery.objects.filter(attempts__gte=1).exists())
    delivery = WebhookDelivery.objects.get()
    assert delivery.error == "target refused: 127.0.0.1 is a loopback address"
    assert receiver.requests == []


def test_the_delivery_log_resend_and_replay(private_targets, receiver, customer, sku):
    client = webhook_client()
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    drain("webhooks")  # the placement is past the relay before the endpoint exists
    endpoint = create_endpoint(client, receiver.url, ["OrderPlaced", "OrderConfirmed"])  # after the placement
    order_confirm(order_id=order_id)
    run_until(lambda: len(receiver.requests) == 1)
    base = f"/api/webhooks/{endpoint['webhook_id']}"

    log = client.get(f"{base}/deliveries/?status=delivered").json()["results"]
    assert [(d["event_type"], d["attempt"], d["status_code"], d["status"]) for d in log] == [
        ("OrderConfirmed", 1, 204, "delivered")
    ]
    assert log[0]["duration_ms"] >= 0 and log[0]["next_attempt_at"] is None
    assert client.get(f"{base}/deliveries/?status=odd").status_code == 400

    assert client.post(f"{base}/deliveries/{log[0]['delivery_id']}/resend/").status_code == 202
    run_until(lambda: len(receiver.requests) == 2)
    assert receiver.requests[1].headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]

    assert client.post(f"{base}/replay/", {}, format="json").status_code == 400
    replay = client.post(f"{base}/replay/", {"from_position": 0}, format="json")
    assert replay.status_code == 202 and replay.json()["status"] == "running"
    run_until(lambda: len(receiver.requests) == 4)
    replayed = [(r.event["type"], r.event["aggregate_version"]) for r in receiver.requests[2:]]
    assert replayed == [("OrderPlaced", 1), ("OrderConfirmed", 2)], "replay includes events before the endpoint"


def test_a_replay_request_only_records_it_and_the_deliverer_walks_the_log_a_page_at_a_time(
    private_targets, receiver, customer, sku
):
    client = webhook_client()
    orders = [order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id for _ in range(7)]
    drain("webhooks")  # all before the endpoint exists: only a replay sends them
    endpoint = create_endpoint(client, receiver.url, ["OrderPlaced"])

    response = client.post(f"/api/webhooks/{endpoint['webhook_id']}/replay/", {"from_position": 0}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json() == {"replay_id": WebhookReplay.objects.get().pk, "status": "running"}
    assert not WebhookDelivery.objects.exists(), "the request walks no log and queues nothing itself"

    pages = 0
    while WebhookReplay.objects.get().state == WebhookReplay.RUNNING:
        replay_page(limit=3)
        pages += 1
        assert WebhookDelivery.objects.count() <= 3 * pages, "a page at a time"
    assert pages == 3 and WebhookReplay.objects.get().queued == 7  # 3 + 3 + 1: the short page ends it
    run_until(lambda: len(receiver.accepted()) == 7)
    assert sorted(r.event["aggregate_id"] for r in receiver.accepted()) == orders
