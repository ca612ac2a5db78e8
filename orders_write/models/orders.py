"""The order aggregate: an order and its lines.

The database repeats the domain's money and quantity rules as CHECK constraints, a last line
of defence should a bug in a service ever try to store a broken order.
"""

from django.db import models
from django.db.models import F, Q

from config.limits import MAX_DISCOUNT_PERCENT, MAX_QUANTITY
from config.rights import MANAGE_ORDERS, codename
from events import OrderStatus
from orders_write.models.catalog import NAME_MAX_LENGTH, SKU_MAX_LENGTH, Customer, Product
from orders_write.models.guard import GuardedModel

TRACKING_NUMBER_MAX_LENGTH = 64
CANCEL_REASON_MAX_LENGTH = 500


class Order(GuardedModel):
    """An order; the ``manage_orders`` right lets a user (API client or staff) place and change orders."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=[(s.value, s.value.title()) for s in OrderStatus])
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()
    discount = models.BigIntegerField(default=0)
    # Set when the discount was asked as a percentage, so it follows later line changes.
    discount_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    total = models.BigIntegerField()
    item_count = models.PositiveIntegerField()
    tracking_number = models.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH, blank=True)
    cancel_reason = models.CharField(max_length=CANCEL_REASON_MAX_LENGTH, blank=True)
    version = models.PositiveIntegerField(default=1)
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        permissions = [(codename(MANAGE_ORDERS), "Can place and change orders")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in OrderStatus]), name="order_status_known"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="order_discount_not_negative"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(total=F("subtotal") - F("discount")), name="order_total_is_sum"),
            models.CheckConstraint(
                condition=Q(discount_percent__isnull=True) | Q(discount_percent__lte=MAX_DISCOUNT_PERCENT),
                name="order_discount_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class OrderLine(GuardedModel):
    """One product on an order; name and unit price are frozen when the line is added."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    product_name = models.CharField(max_length=NAME_MAX_LENGTH)
    quantity = models.PositiveIntegerField()
    unit_price = models.BigIntegerField()
    line_total = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="order_line_one_per_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY), name="order_line_quantity_in_range"
            ),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="order_line_price_positive"),
            models.CheckConstraint(
                condition=Q(line_total=F("quantity") * F("unit_price")), name="order_line_total_is_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
