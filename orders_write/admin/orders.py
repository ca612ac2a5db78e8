"""Orders in the admin: a fast list with actions, an order page with command buttons, a place page.

No field of an order is editable: an order changes only by a command (confirm, ship, deliver,
cancel, add or remove a line, discount), each a domain service call with the staff member as
actor and the version they saw.

The list stays fast on a million orders: the count is estimated, never exact over the whole
table; both filters and both sort orders are served by an index (``0004_order_admin_indexes``),
and a crafted ``?o=`` or lookup cannot ask for anything else; the customer comes in the same
query. The search takes an order number (the primary key) or finds at most 50 customers first
(in the far smaller customer table), then their orders by the customer index. There is no
``date_hierarchy``: its top level runs ``SELECT DISTINCT`` over the truncated date of every
order; the placement-date filter (today, past 7 days, this month, this year) is one index range.
"""

from typing import Any
from uuid import uuid4

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from config.admin_paginator import EstimatedCountPaginator
from config.limits import MAX_BIGINT
from config.rights import MANAGE_ORDERS
from orders_write.admin.base import CommandModelAdmin, describe, form_problems, holds, money
from orders_write.admin.order_actions import cancel_orders, confirm_orders, deliver_orders, ship_orders
from orders_write.admin.order_commands import command_posted, commands_offered, run_command
from orders_write.admin.order_pages import order_page_context, place_order_view
from orders_write.errors import DomainError
from orders_write.models import Customer, Order

CUSTOMERS_PER_SEARCH = 50

ORDER_FIELDS = (
    ("Order", ("id", "customer", "status", "placed_at", "updated_at", "version")),
    ("Money", ("currency", "subtotal_display", "discount_display", "discount_percent", "total_display")),
    ("Fulfilment", ("item_count", "tracking_number", "cancel_reason")),
)


class IndexedSortChangeList(ChangeList):
    """A change list that sorts only by the columns an index serves, whatever ``?o=`` asks."""

    def get_ordering_field(self, field_name: Any) -> str | None:
        return super().get_ordering_field(field_name) if field_name in self.sortable_by else None


@admin.register(Order)
class OrderAdmin(CommandModelAdmin):
    list_display = ("id", "placed_at", "customer_display", "status", "item_count", "total_display", "version")
    list_select_related = ("customer",)
    list_filter = ("status", ("placed_at", admin.DateFieldListFilter))
    sortable_by = ("id", "placed_at")
    ordering = ("-id",)
    search_fields = ("id", "customer__email")  # shows the box; get_search_results decides what it matches
    search_help_text = "An order number, a customer's email, or part of a customer's name or email."
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    actions = [confirm_orders, ship_orders, deliver_orders, cancel_orders]
    fieldsets = [(title, {"fields": fields}) for title, fields in ORDER_FIELDS]
    readonly_fields = [field for _, fields in ORDER_FIELDS for field in fields]
    # The filters' own parameters, the customer link, and nothing a crafted URL could scan by.
    allowed_lookups = frozenset({"status__exact", "placed_at__gte", "placed_at__lt", "customer__id__exact"})

    @admin.display(description="customer")
    def customer_display(self, order: Order) -> str:
        return f"{order.customer.name} <{order.customer.email}>"

    @admin.display(description="total")
    def total_display(self, order: Order) -> str:
        return money(order.total, order.currency)

    @admin.display(description="subtotal")
    def subtotal_display(self, order: Order) -> str:
        return money(order.subtotal, order.currency)

    @admin.display(description="discount")
    def discount_display(self, order: Order) -> str:
        return money(order.discount, order.currency)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return IndexedSortChangeList

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Match an order number (primary key), an exact email, or a few customers by name or email.

        Customers are looked up first (a small table), then their orders by the customer index,
        so no search joins or scans the order table.
        """
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        if term.isdigit():
            return (queryset.filter(pk=int(term)) if int(term) <= MAX_BIGINT else queryset.none()), False
        customers = Customer.objects.filter(Q(email=term.lower()) | Q(name__icontains=term) | Q(email__icontains=term))
        customer_ids = list(customers.order_by("pk").values_list("pk", flat=True)[:CUSTOMERS_PER_SEARCH])
        return queryset.filter(customer_id__in=customer_ids), False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, MANAGE_ORDERS) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return holds(request, MANAGE_ORDERS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, MANAGE_ORDERS)

    def has_manage_orders_permission(self, request: HttpRequest) -> bool:
        return holds(request, MANAGE_ORDERS)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Show the place-order page: orders come into being only through ``order_place``."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        return place_order_view(self, request, idempotency_key=str(uuid4()))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None):
        if request.method == "POST":
            return self._run_posted_command(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            can_change = self.has_change_permission(request, obj)
            commands = commands_offered(obj.status) if can_change else []
            context.update(order_page_context(obj, commands, can_change=can_change))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def submit(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raise PermissionDenied("orders change only through the commands on the order page")

    def _run_posted_command(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        page = reverse("admin:orders_write_order_change", args=[order.pk], current_app=self.admin_site.name)
        command = command_posted(request.POST)
        if command is None:
            messages.error(request, "An order changes only through the commands on its page; nothing was saved.")
            return HttpResponseRedirect(page)
        form = command.bound_form(request.POST)
        if not form.is_valid():
            messages.error(request, f"{command.label}: {form_problems(form)} Nothing was saved.")
            return HttpResponseRedirect(page)
        try:
            result = run_command(command, order_id=order.pk, data=form.cleaned_data, actor=request.user)
        except DomainError as error:
            messages.error(request, f"{command.label}: {describe(error, 'order')}")
            return HttpResponseRedirect(page)
        self.log_change(request, order, f"Order {command.done}; now at version {result.version}.")
        messages.success(request, f"Order {order.pk} {command.done}. It is now at version {result.version}.")
        return HttpResponseRedirect(page)
