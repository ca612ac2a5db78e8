"""Shared fixtures: state is set up through the domain services, never by writing models."""

import itertools
from pathlib import Path

import pytest

from orders_write.services import LineInput, customer_register, order_place, product_add
from tests import servers

_unique = itertools.count(1)


@pytest.fixture
def make_customer():
    def make(name: str = "Ada Lovelace") -> int:
        return customer_register(name=name, email=f"customer{next(_unique)}@example.com").aggregate_id

    return make


@pytest.fixture
def make_product():
    def make(price: int = 1250, name: str = "Widget", sku: str | None = None) -> str:
        sku = sku or f"SKU-{next(_unique)}"
        product_add(sku=sku, name=name, price=price)
        return sku

    return make


@pytest.fixture
def customer(make_customer) -> int:
    return make_customer()


@pytest.fixture
def sku(make_product) -> str:
    return make_product()


@pytest.fixture
def make_order(customer, make_product):
    def make(*lines: tuple[int, int], customer_id: int | None = None):
        """Place an order with (price, quantity) lines on fresh products; return its result."""
        lines = lines or ((1250, 2),)
        inputs = [LineInput(sku=make_product(price=price), quantity=quantity) for price, quantity in lines]
        return order_place(customer_id=customer_id or customer, lines=inputs)

    return make


@pytest.fixture(scope="session")
def static_root(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """``Procfile.production``'s release step, once a session: migrate (nothing to do) and
    collectstatic into a STATIC_ROOT of the session's, for servers started with ``tests.servers``."""
    root = tmp_path_factory.mktemp("static_root")
    with django_db_blocker.unblock():
        servers.release(root)
    return root
