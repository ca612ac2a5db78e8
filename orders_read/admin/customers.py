"""Customer statistics from ``customer_stats``: one row per customer, found by number.

The table is keyed by ``customer_id`` and has no other index, so the search box takes a
customer number (the key) and the list reads in key order. The active/inactive filter has no
index of its own, but the table holds one row per customer, not per order, so filtering it is
a bounded read even on a shop with a million orders.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from config.admin_lookups import exact
from config.money import money
from config.rights import sees_customer_contacts
from orders_read.admin.base import ReadTableAdmin, parse_id
from orders_read.models import CustomerStats


@admin.register(CustomerStats)
class CustomerStatsAdmin(ReadTableAdmin):
    list_display = (
        "customer_id",
        "name",
        "email",
        "is_active",
        "order_count",
        "cancelled_count",
        "lifetime_value_amount",
        "last_order_at",
    )
    list_filter = ("is_active",)
    ordering = ("-customer_id",)
    allowed_lookups = exact("is_active")
    search_fields = ("customer_id",)  # shows the search box; get_search_results decides what it matches
    search_help_text = "A customer number (exact)."
    fields = (
        "customer_id",
        "name",
        "email",
        "is_active",
        "order_count",
        "cancelled_count",
        "lifetime_value_amount",
        "last_order_at",
        "version",
        "reports",
    )
    readonly_fields = ("lifetime_value_amount", "reports")

    # The email is for those who deal with the customer, not for report readers (ADR 0022).
    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if sees_customer_contacts(request.user) else [f for f in shown if f != "email"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        return fields if sees_customer_contacts(request.user) else [f for f in fields if f != "email"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        customer_id = parse_id(search_term)
        return (queryset.none() if customer_id is None else queryset.filter(customer_id=customer_id)), False

    @admin.display(description="lifetime value")
    def lifetime_value_amount(self, obj: CustomerStats) -> str:
        return money(obj.lifetime_value)

    @admin.display(description="see also")
    def reports(self, obj: CustomerStats) -> Any:
        orders = reverse("admin:orders_read_ordersummary_changelist") + f"?customer={obj.customer_id}"
        sales = reverse("admin:orders_read_dailysales_customers") + f"?customer_id={obj.customer_id}"
        return format_html('<a href="{}">their orders</a> · <a href="{}">their sales per day</a>', orders, sales)
