"""The order list and order page of the read side, over ``order_summary`` and ``order_line_view``.

Every way of narrowing the list is one of ``order_summary``'s indexes: status (the status
index), customer (the customer index), placement date (the recent index) and the search box,
which takes an order or customer number (primary key or customer index). Names are not
searchable: no index serves a text search, and a million-row scan per keystroke is what this
admin must not do. ``order_line_view`` has a composite key, which Django's admin refuses to
register, so an order's lines are shown on its page instead, read by primary key in one query.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from config.admin_lookups import dates
from config.money import money
from events import OrderStatus
from orders_read.admin.base import ReadTableAdmin, parse_id
from orders_read.models import CustomerStats, OrderLineView, OrderSummary
from orders_read.queries.orders import LINE_FIELDS


class StatusFilter(admin.SimpleListFilter):
    """The statuses, listed from the event contract rather than by ``SELECT DISTINCT`` over every order."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status.value, status.value.capitalize()) for status in OrderStatus]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(status=self.value()) if self.value() else queryset


class CustomerFilter(admin.SimpleListFilter):
    """One customer's orders (``?customer=<id>``), linked from the customer page; shown only when set."""

    title = "customer"
    parameter_name = "customer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        customer_id = parse_id(self.value() or "")
        if customer_id is None:
            return []
        name = CustomerStats.objects.filter(customer_id=customer_id).values_list("name", flat=True).first()
        return [(str(customer_id), f"{name} ({customer_id})" if name else f"Customer {customer_id}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        customer_id = parse_id(self.value())
        return queryset.none() if customer_id is None else queryset.filter(customer_id=customer_id)


@admin.register(OrderSummary)
class OrderSummaryAdmin(ReadTableAdmin):
    list_display = (
        "order_id",
        "placed_at",
        "status",
        "customer_name",
        "customer_id",
        "item_count",
        "total_amount",
        "updated_at",
    )
    list_filter = (StatusFilter, CustomerFilter)
    date_hierarchy = "placed_at"
    ordering = ("-placed_at", "-order_id")  # the key of every order_summary index
    allowed_lookups = frozenset({StatusFilter.parameter_name, CustomerFilter.parameter_name}) | dates("placed_at")
    search_fields = ("order_id",)  # shows the search box; get_search_results decides what it matches
    search_help_text = "An order number or a customer number (exact)."
    fieldsets = (
        (None, {"fields": ("order_id", "status", "customer", "placed_at", "updated_at", "version")}),
        (
            "Contents",
            {
                "fields": (
                    "subtotal_amount",
                    "discount_amount",
                    "total_amount",
                    "item_count",
                    "line_count",
                    "last_item",
                    "tracking_number",
                )
            },
        ),
    )
    readonly_fields = ("customer", "subtotal_amount", "discount_amount", "total_amount")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        number = parse_id(search_term)
        if number is None:
            return queryset.none(), False
        return queryset.filter(Q(order_id=number) | Q(customer_id=number)), False

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        order = context.get("original")
        if order is not None:
            context["order_lines"] = [
                {
                    **line,
                    "unit_price": money(line["unit_price"], order.currency),
                    "line_total": money(line["line_total"], order.currency),
                }
                for line in order_lines(order.order_id)
            ]
            context["history_url"] = _outbox_url(order.order_id)
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description="customer")
    def customer(self, obj: OrderSummary) -> str:
        url = reverse("admin:orders_read_customerstats_change", args=[obj.customer_id])
        orders = reverse("admin:orders_read_ordersummary_changelist") + f"?customer={obj.customer_id}"
        return format_html(
            '<a href="{}">{} ({})</a> · <a href="{}">all their orders</a>',
            url,
            obj.customer_name,
            obj.customer_id,
            orders,
        )

    @admin.display(description="subtotal")
    def subtotal_amount(self, obj: OrderSummary) -> str:
        return money(obj.subtotal, obj.currency)

    @admin.display(description="discount")
    def discount_amount(self, obj: OrderSummary) -> str:
        return money(obj.discount, obj.currency)

    @admin.display(description="total")
    def total_amount(self, obj: OrderSummary) -> str:
        return money(obj.total, obj.currency)


def order_lines(order_id: int) -> list[dict[str, Any]]:
    """Return the order's lines in sku order, by primary key range, in one query."""
    return list(OrderLineView.objects.filter(order_id=order_id).order_by("sku").values(*LINE_FIELDS))


def _outbox_url(order_id: int) -> str | None:
    """Link to the order's events in the outbox browser, when that admin is installed."""
    try:
        return reverse("admin:orders_write_outboxevent_changelist") + f"?aggregate_type=order&q={order_id}"
    except NoReverseMatch:
        return None
