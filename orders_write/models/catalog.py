"""Customers and products: the aggregates orders refer to."""

from django.db import models
from django.db.models import Q

from config.rights import MANAGE_CATALOG, codename
from orders_write.models.guard import GuardedModel

NAME_MAX_LENGTH = 200
SKU_MAX_LENGTH = 64


class Customer(GuardedModel):
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Product(GuardedModel):
    """A catalogue entry; ``price`` is in minor units of the shop currency."""

    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    price = models.BigIntegerField()
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["sku"]
        permissions = [(codename(MANAGE_CATALOG), "Can manage customers and the product catalogue")]
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
