"""Read-only questions about write-side state, for code that must not touch the models.

Management commands (``seed_demo``) and ``verify_projections`` (through the projections'
``write_side_differences``) need to know which customers and products exist before
they call the domain services, but they may import neither the aggregates nor their
managers: any write must go through ``orders_write.services``. These functions only read,
each with one query, and return plain values rather than model instances.
"""

from datetime import UTC

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate

from events import OrderStatus
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


def order_facts() -> dict[int, tuple]:
    """Return per order ``(id, customer_id, customer name, status, subtotal, discount, total,
    item_count, version, line count)``, the figures ``verify_projections`` holds the order views to."""
    rows = Order.objects.annotate(line_count=Count("lines")).values_list(
        "id", "customer_id", "customer__name", "status", "subtotal", "discount", "total", "item_count", "version",
        "line_count",
    )  # fmt: skip
    return {row[0]: row for row in rows}


def daily_sales_facts() -> dict[str, tuple[int, int, int, int]]:
    """Return per UTC day of placement: orders, cancellations, revenue and discounts of the kept ones."""
    cancelled = Q(status=OrderStatus.CANCELLED)
    rows = (
        Order.objects.annotate(day=TruncDate("placed_at", tzinfo=UTC))
        .values("day")
        .annotate(
            orders=Count("id"),
            cancellations=Count("id", filter=cancelled),
            revenue=Coalesce(Sum("total", filter=~cancelled), 0),
            discounts=Coalesce(Sum("discount", filter=~cancelled), 0),
        )
        .values_list("day", "orders", "cancellations", "revenue", "discounts")
    )
    return {str(day): tuple(int(value) for value in values) for day, *values in rows}


def customer_sales_facts() -> dict[str, tuple[int, int, int]]:
    """Return per customer with orders: orders, cancellations and lifetime value of the kept ones."""
    cancelled = Q(status=OrderStatus.CANCELLED)
    rows = (
        Order.objects.values("customer_id")
        .annotate(
            orders=Count("id"),
            cancellations=Count("id", filter=cancelled),
            value=Coalesce(Sum("total", filter=~cancelled), 0),
        )
        .values_list("customer_id", "orders", "cancellations", "value")
    )
    return {str(customer_id): tuple(int(value) for value in values) for customer_id, *values in rows}
