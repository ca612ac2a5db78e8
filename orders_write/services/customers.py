"""Register, rename and deactivate customers."""

from typing import Any

from django.db import IntegrityError, transaction

from config.databases import write_alias
from events import CustomerDeactivated, CustomerRegistered, CustomerRenamed
from orders_write import clock, outbox
from orders_write.errors import InvariantViolated, NotFound, ValidationFailed
from orders_write.models import Customer
from orders_write.models.catalog import NAME_MAX_LENGTH
from orders_write.services._command import CommandResult, check_expected_version, command
from orders_write.services._validation import FieldErrors

EMAIL_MAX_LENGTH = 254


@command
def customer_register(*, name: str, email: str, actor: Any = None) -> CommandResult:
    errors = FieldErrors()
    name = errors.text("name", name, max_length=NAME_MAX_LENGTH)
    email = errors.email("email", email, max_length=EMAIL_MAX_LENGTH)
    errors.raise_if_any()
    now = clock.now()
    try:
        with transaction.atomic(using=write_alias()):
            customer = Customer.objects.create(name=name, email=email, created_at=now, updated_at=now)
    except IntegrityError:
        raise ValidationFailed("email already registered", details={"email": ["already registered"]}) from None
    position = outbox.append(
        [(CustomerRegistered(customer_id=customer.pk, name=name, email=email), customer.version)], actor=actor
    )
    return CommandResult(customer.pk, customer.version, position)


@command
def customer_rename(
    *, customer_id: int, name: str, expected_version: int | None = None, actor: Any = None
) -> CommandResult:
    errors = FieldErrors()
    errors.identifier("customer_id", customer_id)
    name = errors.text("name", name, max_length=NAME_MAX_LENGTH)
    errors.expected_version(expected_version)
    errors.raise_if_any()
    customer = _lock_customer(customer_id, expected_version)
    previous_name, customer.name = customer.name, name
    return _save(customer, CustomerRenamed(customer_id=customer.pk, name=name, previous_name=previous_name), actor)


@command
def customer_deactivate(*, customer_id: int, expected_version: int | None = None, actor: Any = None) -> CommandResult:
    """Stop a customer from placing new orders; their existing orders are untouched."""
    errors = FieldErrors()
    errors.identifier("customer_id", customer_id)
    errors.expected_version(expected_version)
    errors.raise_if_any()
    customer = _lock_customer(customer_id, expected_version)
    if not customer.is_active:
        raise InvariantViolated("customer is already inactive", details={"customer_id": customer_id})
    customer.is_active = False
    return _save(customer, CustomerDeactivated(customer_id=customer.pk), actor)


def _lock_customer(customer_id: int, expected_version: int | None) -> Customer:
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", details={"customer_id": customer_id})
    check_expected_version(aggregate="customer", expected_version=expected_version, current_version=customer.version)
    return customer


def _save(customer: Customer, event: Any, actor: Any) -> CommandResult:
    customer.version += 1
    customer.updated_at = clock.now()
    customer.save()
    position = outbox.append([(event, customer.version)], actor=actor)
    return CommandResult(customer.pk, customer.version, position)
