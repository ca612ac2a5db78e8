"""Add, reprice and retire catalogue products. Prices are integer minor units."""

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from config.databases import write_alias
from events import Event, ProductAdded, ProductRepriced, ProductRetired
from orders_write import clock, outbox
from orders_write.errors import InvariantViolated, NotFound, ValidationFailed
from orders_write.models import Product
from orders_write.models.catalog import NAME_MAX_LENGTH, SKU_MAX_LENGTH
from orders_write.services._command import CommandResult, check_expected_version, command
from orders_write.services._validation import FieldErrors


@command
def product_add(*, sku: str, name: str, price: int, actor: Any = None) -> CommandResult:
    errors = FieldErrors()
    sku = errors.sku("sku", sku, max_length=SKU_MAX_LENGTH)
    name = errors.text("name", name, max_length=NAME_MAX_LENGTH)
    errors.price("price", price)
    errors.raise_if_any()
    now = clock.now()
    try:
        with transaction.atomic(using=write_alias()):
            product = Product.objects.create(sku=sku, name=name, price=price, created_at=now, updated_at=now)
    except IntegrityError:
        raise ValidationFailed(f"sku {sku!r} already exists", details={"sku": ["already exists"]}) from None
    event = ProductAdded(product_id=product.pk, sku=sku, name=name, price=price, currency=settings.SHOP_CURRENCY)
    position = outbox.append([(event, product.version)], actor=actor)
    return CommandResult(product.pk, product.version, position)


@command
def product_reprice(*, sku: str, price: int, expected_version: int | None = None, actor: Any = None) -> CommandResult:
    """Change the catalogue price; lines already on orders keep the price they were added at."""
    errors = FieldErrors()
    sku = errors.sku("sku", sku, max_length=SKU_MAX_LENGTH)
    errors.price("price", price)
    errors.expected_version(expected_version)
    errors.raise_if_any()
    product = _lock_product(sku, expected_version)
    previous_price, product.price = product.price, price
    return _save(
        product, ProductRepriced(product_id=product.pk, sku=sku, price=price, previous_price=previous_price), actor
    )


@command
def product_retire(*, sku: str, expected_version: int | None = None, actor: Any = None) -> CommandResult:
    """Take a product off sale: no new lines may use it."""
    errors = FieldErrors()
    sku = errors.sku("sku", sku, max_length=SKU_MAX_LENGTH)
    errors.expected_version(expected_version)
    errors.raise_if_any()
    product = _lock_product(sku, expected_version)
    if not product.is_active:
        raise InvariantViolated(f"product {sku!r} is already retired", details={"sku": sku})
    product.is_active = False
    return _save(product, ProductRetired(product_id=product.pk, sku=sku), actor)


def _lock_product(sku: str, expected_version: int | None) -> Product:
    product = Product.objects.select_for_update().filter(sku=sku).first()
    if product is None:
        raise NotFound(f"product {sku!r} does not exist", details={"sku": sku})
    check_expected_version(aggregate="product", expected_version=expected_version, current_version=product.version)
    return product


def _save(product: Product, event: Event, actor: Any) -> CommandResult:
    product.version += 1
    product.updated_at = clock.now()
    product.save()
    position = outbox.append([(event, product.version)], actor=actor)
    return CommandResult(product.pk, product.version, position)
