"""Customers and products in the admin: registered, renamed, repriced, deactivated, retired.

Every save is a domain service call with the staff member as actor and, on a change, the
version they saw. Nothing is ever deleted: a customer is deactivated, a product retired.
Holders of ``manage_orders`` may look both up (to place orders) but change neither.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin_lookups import exact
from config.admin_paginator import EstimatedCountPaginator
from config.limits import MAX_BIGINT, MAX_ROWS_PER_ADMIN_ACTION
from config.rights import MANAGE_CATALOG, MANAGE_ORDERS
from orders_write.admin.base import CommandModelAdmin, holds, money, run_each
from orders_write.admin.catalog_forms import CustomerForm, ProductForm
from orders_write.models import Customer, Product
from orders_write.services import (
    customer_deactivate,
    customer_register,
    customer_rename,
    product_add,
    product_reprice,
    product_retire,
)


class CatalogAdmin(CommandModelAdmin):
    """Changed by holders of ``manage_catalog``; looked up by them and by order clerks."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_filter = ("is_active",)
    allowed_lookups = exact("is_active")
    list_per_page = 50
    history_fields = ("is_active", "version", "created_at", "updated_at")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, MANAGE_CATALOG, MANAGE_ORDERS) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return holds(request, MANAGE_CATALOG)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, MANAGE_CATALOG)

    def has_manage_catalog_permission(self, request: HttpRequest) -> bool:
        return holds(request, MANAGE_CATALOG)


@admin.register(Customer)
class CustomerAdmin(CatalogAdmin):
    form = CustomerForm
    list_display = ("id", "name", "email", "is_active", "version")
    search_fields = ("name", "email")
    search_help_text = "A customer number (exact), or part of a name or email."
    actions = ["deactivate_customers"]

    def get_fields(self, request: HttpRequest, obj: Customer | None = None) -> list[str]:
        if obj is None:
            return ["name", "email"]
        fields = ["name", "email", *self.history_fields]
        if self.has_change_permission(request, obj):
            fields += ["expected_version", *(["deactivate"] if obj.is_active else [])]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> tuple[str, ...]:
        return () if obj is None else ("email", *self.history_fields)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if term.isdigit():  # a customer number: the primary key, not a text scan of it
            return queryset.filter(pk=int(term)) if int(term) <= MAX_BIGINT else queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def submit(self, request: HttpRequest, obj: Customer, form: CustomerForm, change: bool) -> None:
        """Register, or rename and/or deactivate: each its own command, the second at the first's version."""
        data = form.cleaned_data
        if not change:
            obj.pk = customer_register(name=data["name"], email=data["email"], actor=request.user).aggregate_id
            return
        version = data["expected_version"]
        if "name" in form.changed_data:
            version = customer_rename(
                customer_id=obj.pk, name=data["name"], expected_version=version, actor=request.user
            ).version
        if data.get("deactivate"):
            customer_deactivate(customer_id=obj.pk, expected_version=version, actor=request.user)

    @admin.action(description="Deactivate selected customers", permissions=["manage_catalog"])
    def deactivate_customers(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True)[: MAX_ROWS_PER_ADMIN_ACTION + 1])
        if len(ids) > MAX_ROWS_PER_ADMIN_ACTION:
            self.message_user(
                request, f"Select at most {MAX_ROWS_PER_ADMIN_ACTION} customers at a time.", level=messages.ERROR
            )
            return
        run_each(
            self,
            request,
            ((f"Customer {pk}", lambda pk=pk: customer_deactivate(customer_id=pk, actor=request.user)) for pk in ids),
            done="Deactivated",
            subject="customer",
        )


@admin.register(Product)
class ProductAdmin(CatalogAdmin):
    form = ProductForm
    list_display = ("sku", "name", "price_display", "is_active", "version")
    search_fields = ("sku", "name")
    search_help_text = "Part of a sku or product name."
    ordering = ("sku",)
    actions = ["retire_products"]

    @admin.display(description="price", ordering="price")
    def price_display(self, product: Product) -> str:
        return money(product.price)

    def get_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        if obj is None:
            return ["sku", "name", "price"]
        fields = ["sku", "name", "price", *self.history_fields]
        if self.has_change_permission(request, obj):
            fields += ["expected_version", *(["retire"] if obj.is_active else [])]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # A retired product keeps its price: no command reprices what is off sale.
        return ("sku", "name", *(() if obj.is_active else ("price",)), *self.history_fields)

    def submit(self, request: HttpRequest, obj: Product, form: ProductForm, change: bool) -> None:
        """Add, or reprice and/or retire: each its own command, the second at the first's version."""
        data = form.cleaned_data
        if not change:
            obj.pk = product_add(
                sku=data["sku"], name=data["name"], price=data["price"], actor=request.user
            ).aggregate_id
            return
        version = data["expected_version"]
        if "price" in form.changed_data:
            version = product_reprice(
                sku=obj.sku, price=data["price"], expected_version=version, actor=request.user
            ).version
        if data.get("retire"):
            product_retire(sku=obj.sku, expected_version=version, actor=request.user)

    @admin.action(description="Retire selected products", permissions=["manage_catalog"])
    def retire_products(self, request: HttpRequest, queryset: QuerySet) -> None:
        skus = list(queryset.values_list("sku", flat=True)[: MAX_ROWS_PER_ADMIN_ACTION + 1])
        if len(skus) > MAX_ROWS_PER_ADMIN_ACTION:
            self.message_user(
                request, f"Select at most {MAX_ROWS_PER_ADMIN_ACTION} products at a time.", level=messages.ERROR
            )
            return
        run_each(
            self,
            request,
            ((sku, lambda sku=sku: product_retire(sku=sku, actor=request.user)) for sku in skus),
            done="Retired",
            subject="product",
        )
