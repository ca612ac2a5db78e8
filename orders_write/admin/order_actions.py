"""The order list's actions: confirm, ship, deliver or cancel the selected orders.

Each order is one service call, so one order's refusal (already shipped, changed meanwhile)
never holds back the others, and each outcome is reported. Shipping asks for a tracking number
per order and cancelling for a reason, on a page in between that also records the version of
each order the staff member is looking at.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from config.limits import MAX_ROWS_PER_ADMIN_ACTION
from orders_write.admin.base import run_each
from orders_write.admin.order_forms import CancelOrdersForm, ShipOrdersForm
from orders_write.services import order_cancel, order_confirm, order_deliver, order_ship

MAX_PER_PAGE = 50  # the pages in between list every order, with a field each


def _selected(model_admin: Any, request: HttpRequest, queryset: QuerySet, limit: int) -> list[Any] | None:
    """Return the selected orders, or None (with a message) when there are too many for one go."""
    orders = list(queryset.select_related("customer").order_by("pk")[: limit + 1])
    if len(orders) > limit:
        model_admin.message_user(
            request, f"Select at most {limit} orders for this action; nothing was changed.", messages.ERROR
        )
        return None
    return orders


@admin.action(description="Confirm selected orders", permissions=["manage_orders"])
def confirm_orders(model_admin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    if (orders := _selected(model_admin, request, queryset, MAX_ROWS_PER_ADMIN_ACTION)) is None:
        return
    run_each(
        model_admin,
        request,
        ((f"Order {o.pk}", lambda o=o: order_confirm(order_id=o.pk, actor=request.user)) for o in orders),
        done="Confirmed",
        subject="order",
    )


@admin.action(description="Deliver selected orders", permissions=["manage_orders"])
def deliver_orders(model_admin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    if (orders := _selected(model_admin, request, queryset, MAX_ROWS_PER_ADMIN_ACTION)) is None:
        return
    run_each(
        model_admin,
        request,
        ((f"Order {o.pk}", lambda o=o: order_deliver(order_id=o.pk, actor=request.user)) for o in orders),
        done="Marked as delivered",
        subject="order",
    )


@admin.action(description="Ship selected orders (asks for tracking numbers)", permissions=["manage_orders"])
def ship_orders(model_admin: Any, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
    if (orders := _selected(model_admin, request, queryset, MAX_PER_PAGE)) is None:
        return None
    form = ShipOrdersForm(orders, request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return _page(model_admin, request, "ship_orders", form, "Ship orders")
    data = form.cleaned_data
    run_each(
        model_admin,
        request,
        (
            (
                f"Order {o.pk}",
                lambda o=o: order_ship(
                    order_id=o.pk,
                    tracking_number=data[f"tracking_number_{o.pk}"],
                    expected_version=data[f"version_{o.pk}"],
                    actor=request.user,
                ),
            )
            for o in orders
        ),
        done="Shipped",
        subject="order",
    )
    return None


@admin.action(description="Cancel selected orders (asks for a reason)", permissions=["manage_orders"])
def cancel_orders(model_admin: Any, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
    if (orders := _selected(model_admin, request, queryset, MAX_PER_PAGE)) is None:
        return None
    form = CancelOrdersForm(orders, request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return _page(model_admin, request, "cancel_orders", form, "Cancel orders")
    data = form.cleaned_data
    run_each(
        model_admin,
        request,
        (
            (
                f"Order {o.pk}",
                lambda o=o: order_cancel(
                    order_id=o.pk, reason=data["reason"], expected_version=data[f"version_{o.pk}"], actor=request.user
                ),
            )
            for o in orders
        ),
        done="Cancelled",
        subject="order",
    )
    return None


def _page(model_admin: Any, request: HttpRequest, action: str, form: Any, title: str) -> TemplateResponse:
    """Render the page in between, which posts the action back with what it asked for."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "action": action,
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, f"admin/orders_write/order/{action}.html", context)
