"""Every domain service against bad input: a stable error code, and not a single row written.

Each case starts from a call that succeeds (``SERVICES``, proven by
``test_the_baseline_call_of_every_service_succeeds``) and spoils exactly one argument, so a
case can only pass because of the argument it spoils. ``assert_rejected`` checks the error's
class and code, the field it blames, and that the write side is unchanged.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import TestCase

import orders_write.services as services
from config.limits import MAX_PRICE
from orders_write.models import Customer, Order, Product
from orders_write.services import (
    CommandResult,
    LineInput,
    customer_deactivate,
    customer_register,
    customer_rename,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
    order_ship,
    product_add,
    product_reprice,
    product_retire,
)
from tests.services.helpers import assert_rejected

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class World:
    """State built through the services; every aggregate the baselines touch is at version >= 2."""

    customer: int  # active, version 2
    inactive_customer: int
    pending: int  # P-A x1 (1000) + P-B x2 (500): subtotal 2000, version 2
    single_line: int  # PENDING with one line
    confirmed: int  # version 2
    shipped: int  # version 3
    delivered: int
    cancelled: int


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Build the world once for the module, inside a transaction rolled back at the end.

    Each test still runs in its own savepoint (pytest-django's ``django_db``), rolled back after
    it, so every case starts from exactly this state. The atomics are Django's test-case ones,
    which a service's ``atomic(durable=True)`` accepts as its outer transaction.
    """
    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()
        try:
            yield _build_world()
        finally:
            TestCase._rollback_atomics(atomics)


def _build_world() -> World:
    customer = customer_register(name="Ada Lovelace", email="ada@example.com").aggregate_id
    customer_rename(customer_id=customer, name="Ada King")
    inactive = customer_register(name="Gone", email="taken@example.com").aggregate_id
    customer_deactivate(customer_id=inactive)
    product_add(sku="P-A", name="Alpha", price=1000)
    product_reprice(sku="P-A", price=1000)
    product_add(sku="P-B", name="Beta", price=500)
    product_add(sku="P-SPARE", name="Spare", price=300)
    product_add(sku="P-RET", name="Retired", price=300)
    product_retire(sku="P-RET")

    def place(*lines: tuple[str, int], key: str | None = None) -> int:
        items = [LineInput(sku=sku, quantity=quantity) for sku, quantity in lines]
        return order_place(customer_id=customer, lines=items, idempotency_key=key).order_id

    pending = place(("P-A", 1), ("P-B", 2), key="used-key")
    order_discount_apply(order_id=pending, amount=0)
    single_line = place(("P-A", 1))
    confirmed = place(("P-A", 1))
    order_confirm(order_id=confirmed)
    shipped = place(("P-A", 1))
    order_confirm(order_id=shipped)
    order_ship(order_id=shipped, tracking_number="T-1")
    delivered = place(("P-A", 1))
    order_confirm(order_id=delivered)
    order_ship(order_id=delivered, tracking_number="T-2")
    order_deliver(order_id=delivered)
    cancelled = place(("P-A", 1))
    order_cancel(order_id=cancelled, reason="test")
    return World(customer, inactive, pending, single_line, confirmed, shipped, delivered, cancelled)


@dataclass(frozen=True)
class W:
    """An argument that depends on the world (an id made by the fixture)."""

    get: Callable[[World], Any]


def resolve(value: Any, world: World) -> Any:
    return value.get(world) if isinstance(value, W) else value


def lines(*items: tuple[Any, Any]) -> list[LineInput]:
    return [LineInput(sku=sku, quantity=quantity) for sku, quantity in items]


# service name -> (function, the keyword arguments of a call that succeeds against the world)
SERVICES: dict[str, tuple[Callable[..., CommandResult], Callable[[World], dict[str, Any]]]] = {
    "customer_register": (customer_register, lambda w: {"name": "New Person", "email": "new@example.com"}),
    "customer_rename": (customer_rename, lambda w: {"customer_id": w.customer, "name": "New", "expected_version": 2}),
    "customer_deactivate": (customer_deactivate, lambda w: {"customer_id": w.customer, "expected_version": 2}),
    "product_add": (product_add, lambda w: {"sku": "NEW-1", "name": "New thing", "price": 100}),
    "product_reprice": (product_reprice, lambda w: {"sku": "P-A", "price": 1100, "expected_version": 2}),
    "product_retire": (product_retire, lambda w: {"sku": "P-A", "expected_version": 2}),
    "order_place": (
        order_place,
        lambda w: {"customer_id": w.customer, "lines": lines(("P-A", 1), ("P-B", 2)), "idempotency_key": "fresh"},
    ),
    "order_line_add": (
        order_line_add,
        lambda w: {"order_id": w.pending, "sku": "P-SPARE", "quantity": 1, "expected_version": 2},
    ),
    "order_line_remove": (order_line_remove, lambda w: {"order_id": w.pending, "sku": "P-B", "expected_version": 2}),
    "order_discount_apply": (
        order_discount_apply,
        lambda w: {"order_id": w.pending, "percent": 10, "expected_version": 2},
    ),
    "order_confirm": (order_confirm, lambda w: {"order_id": w.pending, "expected_version": 2}),
    "order_ship": (order_ship, lambda w: {"order_id": w.confirmed, "tracking_number": "1Z", "expected_version": 2}),
    "order_deliver": (order_deliver, lambda w: {"order_id": w.shipped, "expected_version": 3}),
    "order_cancel": (order_cancel, lambda w: {"order_id": w.pending, "reason": "not needed", "expected_version": 2}),
}
ORDER_COMMANDS = [name for name in SERVICES if name.startswith("order_") and name != "order_place"]
VERSIONED = [name for name in SERVICES if name not in {"customer_register", "product_add", "order_place"}]


@dataclass(frozen=True)
class Case:
    service: str
    label: str
    code: str
    detail: str | None
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.service}:{self.label}"


CASES: list[Case] = []


def case(service: str, label: str, code: str, detail: str | None = None, **overrides: Any) -> None:
    CASES.append(Case(service, label, code, detail, overrides))


# --- identifiers -------------------------------------------------------------------------------

MALFORMED_IDS = [
    ("0", 0),
    ("negative", -1),
    ("2**63", 2**63),
    ("10**30", 10**30),
    ("True", True),
    ("False", False),
    ("str", "1"),
    ("float", 1.0),
    ("None", None),
]
UNKNOWN_IDS = [("unknown", W(lambda w: w.cancelled + 1000)), ("unknown-max-bigint", 2**63 - 1)]

for name, id_field in [
    ("customer_rename", "customer_id"),
    ("customer_deactivate", "customer_id"),
    ("order_place", "customer_id"),
    *[(command, "order_id") for command in ORDER_COMMANDS],
]:
    for label, value in MALFORMED_IDS:
        case(name, f"{id_field}={label}", "validation_error", id_field, **{id_field: value})
    for label, value in UNKNOWN_IDS:
        # placing for a customer who does not exist breaks a rule; changing a missing aggregate is "not found"
        code = "invariant_violated" if name == "order_place" else "not_found"
        case(name, f"{id_field}={label}", code, id_field, **{id_field: value})

# --- expected_version --------------------------------------------------------------------------

for name in VERSIONED:
    for label, value in [
        ("0", 0),
        ("negative", -1),
        ("2**31", 2**31),
        ("10**30", 10**30),
        ("True", True),
        ("str", "2"),
        ("float", 2.0),
    ]:
        case(name, f"expected_version={label}", "validation_error", "expected_version", expected_version=value)
    case(name, "expected_version=stale", "version_conflict", "current_version", expected_version=1)
    case(name, "expected_version=ahead", "version_conflict", "current_version", expected_version=99)

# --- text fields -------------------------------------------------------------------------------

BAD_TEXT = [
    ("blank", ""),
    ("whitespace-only", " \t \n "),
    ("NUL", "a\x00b"),
    ("bell", "a\x07b"),
    ("escape", "a\x1bb"),
    ("inner-newline", "a\nb"),
    ("inner-tab", "a\tb"),
    ("DEL", "a\x7fb"),
    ("C1-control", "a\x85b"),
    ("lone-surrogate", "a\ud800b"),
    ("int", 123),
    ("None", None),
    ("bytes", b"abc"),
    ("list", ["abc"]),
]
TEXT_FIELDS = [
    ("customer_register", "name", 200),
    ("customer_rename", "name", 200),
    ("product_add", "name", 200),
    ("order_ship", "tracking_number", 64),
    ("order_cancel", "reason", 500),
    ("order_place", "idempotency_key", 255),
]
for name, text_field, max_length in TEXT_FIELDS:
    for label, value in [*BAD_TEXT, (f"{max_length + 1}-chars", "x" * (max_length + 1))]:
        if text_field == "idempotency_key" and value is None:
            continue  # no key: a plain, non-idempotent placement
        case(name, f"{text_field}={label}", "validation_error", text_field, **{text_field: value})

# --- emails ------------------------------------------------------------------------------------

for label, value, code in [
    ("no-at", "not-an-email", "validation_error"),
    ("no-domain", "ada@", "validation_error"),
    ("no-local-part", "@example.com", "validation_error"),
    ("inner-space", "a b@example.com", "validation_error"),
    ("two-ats", "a@b@example.com", "validation_error"),
    ("double-dot", "a@example..com", "validation_error"),
    ("255-chars", "a" * 64 + "@" + "b" * 186 + ".com", "validation_error"),
    ("NUL", "a\x00@example.com", "validation_error"),
    ("duplicate", "taken@example.com", "validation_error"),
    ("duplicate-other-case", "TAKEN@Example.COM", "validation_error"),
    ("duplicate-padded", "  taken@example.com ", "validation_error"),
    *[(label, value, "validation_error") for label, value in BAD_TEXT if label in {"blank", "int", "None"}],
]:
    case("customer_register", f"email={label}", code, "email", email=value)

# --- skus --------------------------------------------------------------------------------------

BAD_SKUS = [
    ("blank", ""),
    ("whitespace-only", "   "),
    ("inner-space", "P A"),
    ("slash", "P/A"),
    ("non-ascii", "P-Ä"),
    ("leading-dash", "-PA"),
    ("leading-dot", ".PA"),
    ("65-chars", "P" * 65),
    ("NUL", "P\x00A"),
    ("lone-surrogate", "P\ud800"),
    ("int", 123),
    ("None", None),
]
for name in ["product_add", "product_reprice", "product_retire", "order_line_add", "order_line_remove"]:
    for label, value in BAD_SKUS:
        case(name, f"sku={label}", "validation_error", "sku", sku=value)
    if name != "product_add":
        # a well-formed sku nobody has: the product (or the line) is missing
        code = "invariant_violated" if name == "order_line_add" else "not_found"
        case(name, "sku=unknown", code, "sku", sku="NO-SUCH-SKU")
for label, value in BAD_SKUS:
    case("order_place", f"lines[0].sku={label}", "validation_error", "lines[0].sku", lines=lines((value, 1)))
case("product_add", "sku=duplicate", "validation_error", "sku", sku="P-A")
case("product_add", "sku=duplicate-padded", "validation_error", "sku", sku="  P-A  ")
case("product_add", "sku=duplicate-of-retired", "validation_error", "sku", sku="P-RET")

# --- prices ------------------------------------------------------------------------------------

BAD_PRICES = [
    ("0", 0),
    ("negative", -1),
    ("max-plus-one", MAX_PRICE + 1),
    ("10**20", 10**20),
    ("float", 12.5),
    ("whole-float", 100.0),
    ("decimal", Decimal("100")),
    ("str", "100"),
    ("True", True),
    ("None", None),
]
for name in ["product_add", "product_reprice"]:
    for label, value in BAD_PRICES:
        case(name, f"price={label}", "validation_error", "price", price=value)

# --- quantities --------------------------------------------------------------------------------

BAD_QUANTITIES = [
    ("0", 0),
    ("negative", -1),
    ("1000", 1000),
    ("10**20", 10**20),
    ("float", 1.5),
    ("whole-float", 2.0),
    ("str", "2"),
    ("True", True),
    ("None", None),
]
for label, value in BAD_QUANTITIES:
    case("order_line_add", f"quantity={label}", "validation_error", "quantity", quantity=value)
    case(
        "order_place",
        f"lines[0].quantity={label}",
        "validation_error",
        "lines[0].quantity",
        lines=lines(("P-A", value)),
    )

# --- the lines of a new order ------------------------------------------------------------------

for label, value, code, detail in [
    ("empty-list", [], "validation_error", "lines"),
    ("empty-tuple", (), "validation_error", "lines"),
    ("None", None, "validation_error", "lines"),
    ("str", "P-A", "validation_error", "lines"),
    ("bare-LineInput", LineInput(sku="P-A", quantity=1), "validation_error", "lines"),
    ("dict", {"sku": "P-A", "quantity": 1}, "validation_error", "lines"),
    ("list-of-dicts", [{"sku": "P-A", "quantity": 1}], "validation_error", "lines"),
    ("list-of-tuples", [("P-A", 1)], "validation_error", "lines"),
    ("list-with-None", [LineInput(sku="P-A", quantity=1), None], "validation_error", "lines"),
    ("set", {LineInput(sku="P-A", quantity=1)}, "validation_error", "lines"),
    ("iterator", iter([LineInput(sku="P-A", quantity=1)]), "validation_error", "lines"),
    ("101-lines", lines(*[(f"P-{i}", 1) for i in range(101)]), "validation_error", "lines"),
    ("duplicate-sku", lines(("P-A", 1), ("P-A", 2)), "validation_error", "lines[1].sku"),
    ("duplicate-sku-padded", lines(("P-A", 1), (" P-A ", 2)), "validation_error", "lines[1].sku"),
    ("unknown-sku", lines(("P-A", 1), ("NO-SUCH-SKU", 1)), "invariant_violated", "lines[1].sku"),
    ("retired-sku", lines(("P-RET", 1)), "invariant_violated", "lines[0].sku"),
]:
    case("order_place", f"lines={label}", code, detail, lines=value)
case(
    "order_place",
    "customer_id=deactivated",
    "invariant_violated",
    "customer_id",
    customer_id=W(lambda w: w.inactive_customer),
)
case(
    "order_place",
    "idempotency_key=reused-for-other-request",
    "idempotency_key_reused",
    "order_id",
    idempotency_key="used-key",
    lines=lines(("P-A", 2)),
)

# --- discounts ---------------------------------------------------------------------------------

for label, value in [
    ("101", 101),
    ("negative", -1),
    ("10**20", 10**20),
    ("float", 10.5),
    ("whole-float", 10.0),
    ("str", "10"),
    ("True", True),
]:
    case("order_discount_apply", f"percent={label}", "validation_error", "percent", percent=value)
for label, value in [
    ("negative", -1),
    ("10**20", 10**20),
    ("float", 1.5),
    ("str", "5"),
    ("True", True),
]:
    case("order_discount_apply", f"amount={label}", "validation_error", "amount", percent=None, amount=value)
case("order_discount_apply", "both-percent-and-amount", "validation_error", "percent", percent=10, amount=100)
case("order_discount_apply", "neither-percent-nor-amount", "validation_error", "percent", percent=None)
case("order_discount_apply", "amount-over-subtotal", "invariant_violated", "amount", percent=None, amount=2001)

# --- rules on existing aggregates --------------------------------------------------------------

case("order_line_add", "sku=retired", "invariant_violated", "sku", sku="P-RET")
case("order_line_add", "sku=already-on-order", "invariant_violated", "sku", sku="P-A")
case("order_line_remove", "sku=not-on-order", "not_found", "sku", sku="P-SPARE")
case(
    "order_line_remove",
    "last-line",
    "invariant_violated",
    "sku",
    order_id=W(lambda w: w.single_line),
    sku="P-A",
    expected_version=None,
)
case(
    "customer_deactivate",
    "already-inactive",
    "invariant_violated",
    "customer_id",
    customer_id=W(lambda w: w.inactive_customer),
    expected_version=None,
)
case("product_retire", "already-retired", "invariant_violated", "sku", sku="P-RET", expected_version=None)

# --- illegal transitions (the full status x command matrix is in test_order_services) ----------

for name, status in [
    ("order_line_add", "confirmed"),
    ("order_line_remove", "shipped"),
    ("order_discount_apply", "delivered"),
    ("order_confirm", "confirmed"),
    ("order_confirm", "cancelled"),
    ("order_ship", "pending"),
    ("order_ship", "delivered"),
    ("order_deliver", "confirmed"),
    ("order_deliver", "delivered"),
    ("order_cancel", "shipped"),
    ("order_cancel", "delivered"),
    ("order_cancel", "cancelled"),
]:
    order = W(lambda w, status=status: getattr(w, status))
    case(name, f"when-{status}", "invalid_transition", "status", order_id=order, expected_version=None)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_rejected_with_its_code_and_writes_nothing(world, case):
    function, baseline = SERVICES[case.service]
    base = baseline(world)
    kwargs = {**base, **{name: resolve(value, world) for name, value in case.overrides.items()}}
    assert_rejected(lambda: function(**kwargs), case.code, detail=case.detail, order_id=base.get("order_id"))


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_baseline_call_of_every_service_succeeds(world, service):
    function, baseline = SERVICES[service]
    result = function(**baseline(world))
    assert isinstance(result, CommandResult)
    assert result.version >= 1 and result.position >= 1


def test_the_matrix_covers_every_service_and_every_code():
    exported = {name for name in services.__all__ if name not in {"CommandResult", "LineInput"}}
    assert set(SERVICES) == exported
    assert {c.service for c in CASES} == exported
    assert {c.code for c in CASES} == {
        "validation_error",
        "not_found",
        "invariant_violated",
        "invalid_transition",
        "version_conflict",
        "idempotency_key_reused",
    }
    assert len({c.id for c in CASES}) == len(CASES)


# --- the limits are exactly where the rejections say -------------------------------------------

ACCEPTED = [
    ("customer_register", "name=200-chars-padded", {"name": "  " + "n" * 200 + "  "}),
    ("customer_register", "name=unicode", {"name": "Zoë Ñandú 李雷 🙂"}),
    (
        "customer_register",
        "email=254-chars",
        {"email": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"},
    ),
    ("customer_rename", "name=200-chars", {"name": "n" * 200}),
    ("product_add", "name=200-chars", {"name": "n" * 200}),
    ("product_add", "sku=64-chars", {"sku": "S" * 64}),
    ("product_add", "price=1", {"price": 1}),
    ("product_add", "price=max", {"price": MAX_PRICE}),
    ("product_reprice", "price=max", {"price": MAX_PRICE}),
    ("order_place", "quantity=999", {"lines": lines(("P-A", 999))}),
    ("order_place", "idempotency_key=255-chars", {"idempotency_key": "k" * 255}),
    ("order_place", "tuple-of-lines", {"lines": tuple(lines(("P-A", 1)))}),
    ("order_line_add", "quantity=999", {"quantity": 999}),
    ("order_discount_apply", "percent=0", {"percent": 0}),
    ("order_discount_apply", "percent=100", {"percent": 100}),
    ("order_discount_apply", "amount=0", {"percent": None, "amount": 0}),
    ("order_discount_apply", "amount=subtotal", {"percent": None, "amount": 2000}),
    ("order_ship", "tracking_number=64-chars", {"tracking_number": "T" * 64}),
    ("order_cancel", "reason=500-chars", {"reason": "r" * 500}),
    ("order_cancel", "from-confirmed", {"order_id": W(lambda w: w.confirmed)}),
    ("customer_rename", "expected_version=None", {"expected_version": None}),
]


@pytest.mark.parametrize(
    ("service", "overrides"), [(s, o) for s, _, o in ACCEPTED], ids=[f"{s}:{label}" for s, label, _ in ACCEPTED]
)
def test_input_at_the_limits_is_accepted(world, service, overrides):
    function, baseline = SERVICES[service]
    kwargs = {**baseline(world), **{name: resolve(value, world) for name, value in overrides.items()}}
    before = (Customer.objects.count(), Product.objects.count(), Order.objects.count())
    result = function(**kwargs)
    assert isinstance(result, CommandResult)
    assert (Customer.objects.count(), Product.objects.count(), Order.objects.count()) >= before
