"""Place an order, optionally idempotent under a client-chosen key."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction

from config.databases import write_alias
from config.limits import MAX_LINES, MAX_QUANTITY
from events import OrderPlaced, OrderStatus
from orders_write import clock, outbox
from orders_write.errors import IdempotencyKeyReused, InvariantViolated
from orders_write.models import Customer, IdempotencyRecord, Order, OrderLine, Product
from orders_write.models.catalog import SKU_MAX_LENGTH
from orders_write.models.inserts import insert_instances
from orders_write.services._command import CommandResult, command
from orders_write.services._observed import observed
from orders_write.services._order_aggregate import event_fields, snapshot
from orders_write.services._validation import FieldErrors

IDEMPOTENCY_KEY_MAX_LENGTH = 255


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


@observed  # validation and idempotent replays happen before ``_place``'s transaction (ADR 0024)
def order_place(
    *,
    customer_id: int,
    lines: Sequence[LineInput],
    actor: Any = None,
    idempotency_key: str | None = None,
) -> CommandResult:
    """Place a PENDING order at today's catalogue prices.

    With ``idempotency_key``, a retry of the same request (same actor, key, customer and
    lines) returns the first result instead of placing a second order; the same key with a
    different request raises ``IdempotencyKeyReused``. Concurrent retries are safe: the
    loser's transaction rolls back on the key's unique index and then reads the winner's.
    """
    lines, idempotency_key = _validate(customer_id, lines, idempotency_key)
    if idempotency_key is None:
        return _place(customer_id=customer_id, lines=lines, actor=actor, idempotency=None)
    scope = idempotency_scope(actor)
    fingerprint = _fingerprint(customer_id, lines)
    if (replayed := _replay(scope, idempotency_key, fingerprint)) is not None:
        return replayed
    try:
        return _place(
            customer_id=customer_id, lines=lines, actor=actor, idempotency=(scope, idempotency_key, fingerprint)
        )
    except _KeyTakenConcurrently:
        replayed = _replay(scope, idempotency_key, fingerprint)
        assert replayed is not None, "the winning placement committed its idempotency record"
        return replayed


def idempotency_scope(actor: Any) -> str:
    """Return whose keys a key is unique among: ``user:<pk>`` or ``system``.

    The primary key only, never the username: a renamed user's retries must still find their
    first result, and a new user given an old name must not find someone else's (ADR 0022).
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system"
    return f"user:{actor.pk}"


class _KeyTakenConcurrently(Exception):
    pass


def _validate(customer_id: Any, lines: Any, idempotency_key: Any) -> tuple[list[LineInput], str | None]:
    """Return the cleaned lines and idempotency key (stripped, as stored and looked up)."""
    errors = FieldErrors()
    errors.identifier("customer_id", customer_id)
    if idempotency_key is not None:
        idempotency_key = errors.text("idempotency_key", idempotency_key, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    if not isinstance(lines, list | tuple) or not all(isinstance(line, LineInput) for line in lines):
        errors.add("lines", "must be a list of LineInput")
        errors.raise_if_any()
    if not lines:
        errors.add("lines", "an order needs at least one line")
    elif len(lines) > MAX_LINES:
        errors.add("lines", f"an order has at most {MAX_LINES} lines")
    seen: set[str] = set()
    cleaned = []
    for index, line in enumerate(lines):
        sku = errors.sku(f"lines[{index}].sku", line.sku, max_length=SKU_MAX_LENGTH)
        errors.integer(f"lines[{index}].quantity", line.quantity, minimum=1, maximum=MAX_QUANTITY)
        if sku in seen:
            errors.add(f"lines[{index}].sku", f"duplicate sku {sku!r}; use one line with the total quantity")
        seen.add(sku)
        cleaned.append(LineInput(sku=sku, quantity=line.quantity))
    errors.raise_if_any()
    return cleaned, idempotency_key


def _fingerprint(customer_id: int, lines: list[LineInput]) -> str:
    request = {"customer_id": customer_id, "lines": [[line.sku, line.quantity] for line in lines]}
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _replay(scope: str, key: str, fingerprint: str) -> CommandResult | None:
    # Raw: every keyed placement asks this first, and the ORM's compile cost more than the lookup.
    table = IdempotencyRecord._meta.db_table
    records = IdempotencyRecord.objects.raw(f'SELECT * FROM {table} WHERE scope = %s AND "key" = %s', [scope, key])
    record = next(iter(records), None)
    if record is None:
        return None
    if record.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this idempotency key was already used for a different request",
            details={"idempotency_key": key, "order_id": record.order_id},
        )
    return CommandResult(record.order_id, record.version, record.position)


@command
def _place(
    *, customer_id: int, lines: list[LineInput], actor: Any, idempotency: tuple[str, str, str] | None
) -> CommandResult:
    customer, products = _customer_and_products(customer_id, [line.sku for line in lines])
    if customer is None or not customer.is_active:
        state = "unknown" if customer is None else "inactive"
        raise InvariantViolated(f"customer {customer_id} is {state}", details={"customer_id": [f"{state} customer"]})
    _require_active_products(lines, products)

    now = clock.now()
    order = Order(
        customer_id=customer_id,
        status=OrderStatus.PENDING,
        currency=settings.SHOP_CURRENCY,
        placed_at=now,
        updated_at=now,
    )
    order.subtotal = sum(products[line.sku].price * line.quantity for line in lines)
    order.item_count = sum(line.quantity for line in lines)
    order.discount, order.total = 0, order.subtotal
    insert_instances([order])  # the hot path: one INSERT without the ORM's compile (models/inserts.py)
    order_lines = [
        OrderLine(
            order=order,
            product=products[line.sku],
            sku=line.sku,
            product_name=products[line.sku].name,
            quantity=line.quantity,
            unit_price=products[line.sku].price,
            line_total=products[line.sku].price * line.quantity,
        )
        for line in lines
    ]
    insert_instances(order_lines)
    event = OrderPlaced(
        **event_fields(order), customer_name=customer.name, lines=tuple(snapshot(line) for line in order_lines)
    )
    position = outbox.append([(event, order.version)], actor=actor)
    if idempotency is not None:
        scope, key, fingerprint = idempotency
        try:
            with transaction.atomic(using=write_alias()):
                record = IdempotencyRecord(
                    scope=scope,
                    key=key,
                    request_fingerprint=fingerprint,
                    order_id=order.pk,
                    version=order.version,
                    position=position,
                )
                insert_instances([record])
        except IntegrityError:
            raise _KeyTakenConcurrently from None
    return CommandResult(order.pk, order.version, position)


class _CustomerState(NamedTuple):
    name: str
    is_active: bool


def _customer_and_products(customer_id: int, skus: list[str]) -> tuple[_CustomerState | None, dict[str, Product]]:
    """Return the customer's name and state (None if unknown) and the products by sku, in one query.

    Placing an order is the hot command, and the ORM's compiling of a query costs more CPU than
    the round trip: the customer is joined to its order's products in one raw statement (one row
    per matching product, or one row with no product when none matches; no row when the customer
    is unknown), which the ORM turns into ``Product`` instances without compiling anything.
    """
    customer_meta, product_meta = Customer._meta, Product._meta
    product_columns = ", ".join(f"p.{field.column}" for field in product_meta.concrete_fields)
    sku_in = ", ".join(["%s"] * len(skus))
    rows = list(
        Product.objects.raw(
            f"SELECT {product_columns}, c.name AS customer_name, c.is_active AS customer_is_active "
            f"FROM {customer_meta.db_table} c LEFT JOIN {product_meta.db_table} p ON p.sku IN ({sku_in}) "
            f"WHERE c.{customer_meta.pk.column} = %s",
            [*skus, customer_id],
        )
    )
    if not rows:
        return None, {}
    state = _CustomerState(rows[0].customer_name, rows[0].customer_is_active)
    return state, {product.sku: product for product in rows if product.pk is not None}


def _require_active_products(lines: list[LineInput], products: dict[str, Product]) -> None:
    problems: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        product = products.get(line.sku)
        if product is None or not product.is_active:
            problems[f"lines[{index}].sku"] = ["unknown product" if product is None else "product is retired"]
    if problems:
        raise InvariantViolated("an order may only contain known, active products", details=problems)
