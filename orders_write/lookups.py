"""Read-only questions about write-side state, for code that must not touch the models.

Management commands (``seed_demo``) need to know which customers and products exist before
they call the domain services, but they may import neither the aggregates nor their
managers: any write must go through ``orders_write.services``. These functions only read,
each with one query, and return plain values rather than model instances.
"""

from orders_write.models import Customer, Order, Product


def order_exists() -> bool:
    """Return whether any order has been placed."""
    return Order.objects.exists()


def order_count() -> int:
    """Return how many orders exist, whatever their status."""
    return Order.objects.count()


def customer_ids_active() -> list[int]:
    """Return the ids of the customers who may place orders, in id order."""
    return list(Customer.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))


def customer_emails() -> set[str]:
    """Return every registered email, active or not (emails stay unique for ever)."""
    return set(Customer.objects.values_list("email", flat=True))


def customer_name(customer_id: int) -> str | None:
    """Return the customer's current name, or ``None`` when there is no such customer."""
    return Customer.objects.filter(pk=customer_id).values_list("name", flat=True).first()


def product_skus() -> set[str]:
    """Return every sku ever added, retired ones included (a sku is never reused)."""
    return set(Product.objects.values_list("sku", flat=True))


def product_prices_active() -> dict[str, int]:
    """Return the catalogue price, in minor units, of every product on sale, by sku in sku order."""
    return dict(Product.objects.filter(is_active=True).order_by("sku").values_list("sku", "price"))
