"""The delivery's connections: kept alive per vetted target, and no way round the SSRF check (DNS rebinding).

Name lookups are steered by replacing ``socket.getaddrinfo`` (the one thing a test cannot get
from a real resolver); connections are real, to receivers on 127.0.0.x. Where a test's vetted
address is a public one, an audit hook records every ``socket.connect`` and refuses that one
address, so nothing leaves the machine and the test sees exactly where the worker connected.
"""

import json
import socket
import sys

import pytest

from orders_write.services import LineInput, order_confirm, order_place
from tests.webhooks.helpers import create_endpoint, run_until, webhook_client
from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery
from webhooks.transport import ConnectionPool

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "hooks.rebind.example"
PUBLIC = "93.184.215.14"  # a public address: vetted, then refused by the audit hook below
_connects: list | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and _connects is not None and isinstance(args[1], tuple):
        _connects.append(args[1][:2])
        if args[1][0] == PUBLIC:
            raise ConnectionRefusedError(f"test: nothing may reach {PUBLIC}")


sys.addaudithook(_audit)  # inert unless a test holds the ``connects`` fixture


@pytest.fixture
def connects():
    global _connects
    _connects = []
    yield _connects
    _connects = None


@pytest.fixture
def resolver(monkeypatch):
    """Answer lookups of ``NAME`` from ``answers`` (the last one repeats); count them in ``lookups``."""
    real = socket.getaddrinfo

    class Resolver:
        answers: list[str] = []
        lookups = 0

        def getaddrinfo(self, host, port, *args, **kwargs):
            if host != NAME:
                return real(host, port, *args, **kwargs)
            self.lookups += 1
            address = self.answers[min(self.lookups, len(self.answers)) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    fake = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


def body_of(order_id: int) -> bytes:
    return json.dumps({"event_id": str(order_id), "aggregate_type": "order", "aggregate_id": order_id}).encode()


def place_orders(customer: int, sku: str, count: int) -> None:
    for _ in range(count):
        order_confirm(order_id=order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id)


def test_a_name_rebound_between_the_check_and_the_connect_is_reached_only_at_the_vetted_address(
    resolver, connects, receiver
):
    resolver.answers = [PUBLIC, "127.0.0.1"]  # public when vetted, the receiver's loopback ever after
    with pytest.raises(ConnectionRefusedError):
        ConnectionPool().post(f"https://{NAME}:{receiver.port}/hooks", body_of(1), {})
    assert connects == [(PUBLIC, receiver.port)], "one connection, to the address just vetted"
    assert resolver.lookups == 1, "the name is looked up once, by the check: no second resolution"
    assert receiver.connections == 0


def test_a_name_now_resolving_to_a_private_address_is_refused_at_delivery(resolver, connects, receiver, customer, sku):
    resolver.answers = [PUBLIC]
    create_endpoint(webhook_client(), f"https://{NAME}:{receiver.port}/hooks", ["OrderPlaced"])  # vetted: public
    resolver.answers = ["127.0.0.1"]
    place_orders(customer, sku, 1)
    run_until(lambda: WebhookDelivery.objects.filter(attempts__gte=1).exists())
    delivery = WebhookDelivery.objects.get()
    assert delivery.error == f"target refused: {NAME} must resolve, and to public addresses only"
    assert delivery.state == "pending" and delivery.status_code is None
    assert connects == [] and receiver.connections == 0, "refused before any connection"


@pytest.mark.parametrize("answer", ["10.1.2.3", "fec0::7", "2002:a00:1::1", "64:ff9b::a9fe:a9fe", "::ffff:10.1.2.3"])
def test_a_refusal_never_reveals_what_a_name_resolves_to(resolver, answer):
    resolver.answers = [answer]
    response = webhook_client().post("/api/webhooks/", {"url": f"https://{NAME}/hooks"}, format="json")
    assert response.status_code == 400, response.json()
    message = response.json()["error"]["details"]["url"][0]
    assert message == f"not an allowed webhook target: {NAME} must resolve, and to public addresses only"
    unresolvable = webhook_client().post("/api/webhooks/", {"url": "https://nothing.invalid/hooks"}, format="json")
    assert unresolvable.json()["error"]["details"]["url"][0].endswith("must resolve, and to public addresses only")


def test_deliveries_share_one_kept_alive_connection(private_targets, customer, sku):
    receiver = Receiver(keep_alive=True).start()
    pool = ConnectionPool()
    try:
        create_endpoint(webhook_client(), receiver.url, ["OrderPlaced", "OrderConfirmed"])
        place_orders(customer, sku, 4)
        run_until(lambda: len(receiver.accepted()) == 8, pool=pool)
        assert receiver.connections == 1 and len(pool) == 1
    finally:
        pool.close()
        receiver.stop()


def test_a_kept_connection_the_server_closed_is_replaced_without_a_failed_attempt(private_targets, customer, sku):
    receiver = Receiver(keep_alive=True).start()
    pool = ConnectionPool()
    try:
        create_endpoint(webhook_client(), receiver.url, ["OrderPlaced"])
        place_orders(customer, sku, 1)
        run_until(lambda: len(receiver.accepted()) == 1, pool=pool)
        receiver.stop()  # closes the kept connection from the server's side
        receiver.start()
        place_orders(customer, sku, 1)
        run_until(lambda: len(receiver.accepted()) == 2, pool=pool)
    finally:
        pool.close()
        receiver.stop()
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert receiver.connections == 2


def test_when_the_name_resolves_elsewhere_the_next_post_opens_a_connection_to_the_new_address(
    private_targets, resolver, customer, sku
):
    first = Receiver(keep_alive=True).start()
    second = Receiver(host="127.0.0.2", port=first.port, keep_alive=True).start()
    pool = ConnectionPool()
    try:
        resolver.answers = ["127.0.0.1"]
        create_endpoint(webhook_client(), f"http://{NAME}:{first.port}/hooks", ["OrderPlaced"])
        place_orders(customer, sku, 1)
        run_until(lambda: len(first.accepted()) == 1, pool=pool)
        resolver.answers = ["127.0.0.2"]
        resolver.lookups = 0
        place_orders(customer, sku, 1)
        run_until(lambda: len(second.accepted()) == 1, pool=pool)
    finally:
        pool.close()
        first.stop()
        second.stop()
    assert len(first.requests) == 1, "the kept connection to the old address carried nothing more"
    assert (first.connections, second.connections) == (1, 1)
