"""The two order pages the admin does not generate: the order's commands and lines, and "place order".

The order page adds to Django's read-only change form what staff act on: the lines, the
commands the order's status allows (each its own small form with the version shown), and the
order's events from the outbox, which is its audit log. The place-order page takes a customer
and up to a hundred sku/quantity lines and calls ``order_place``.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from events import OrderStatus
from orders_write.admin.base import describe, money
from orders_write.admin.order_commands import ORDER_COMMANDS, OrderCommand
from orders_write.admin.order_forms import LineInputFormSet, PlaceOrderForm
from orders_write.errors import DomainError, IdempotencyKeyReused
from orders_write.models import Order, OrderLine, OutboxEvent
from orders_write.services import LineInput, order_place

REMOVE_LINE = next(command for command in ORDER_COMMANDS if command.per_line)


def order_page_context(order: Order, commands: list[OrderCommand], *, can_change: bool) -> dict[str, Any]:
    """Return what the order page shows below the order's fields (two queries)."""
    lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("id"))
    removable = can_change and order.status == OrderStatus.PENDING and len(lines) > 1
    return {
        "order_commands": [(command, command.unbound_form(order.version)) for command in commands],
        "order_lines": [
            {
                "line": line,
                "unit_price": money(line.unit_price, order.currency),
                "line_total": money(line.line_total, order.currency),
                "remove_form": REMOVE_LINE.unbound_form(order.version, sku=line.sku) if removable else None,
            }
            for line in lines
        ],
        "remove_line": REMOVE_LINE,
        "order_events": OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=order.pk)
        .order_by("aggregate_version")
        .values("position", "aggregate_version", "event_type", "occurred_at", "actor"),
    }


def place_order_view(model_admin: Any, request: HttpRequest, *, idempotency_key: str) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {"idempotency_key": idempotency_key, "customer": request.GET.get("customer", "")}
    form = PlaceOrderForm(data, initial=initial)
    formset = LineInputFormSet(data, prefix="lines")
    if data is not None and form.is_valid() and formset.is_valid():
        filled = [line_form for line_form in formset.forms if line_form.cleaned_data]
        try:
            placed = order_place(
                customer_id=form.cleaned_data["customer"],
                lines=[LineInput(sku=f.cleaned_data["sku"], quantity=f.cleaned_data["quantity"]) for f in filled],
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            _show_refusal(form, filled, error)
        else:
            order = Order.objects.get(pk=placed.order_id)
            model_admin.log_addition(request, order, f"Placed; version {placed.version}.")
            messages.success(request, f"Order {order.pk} placed. It is pending, at version {placed.version}.")
            return HttpResponseRedirect(
                reverse("admin:orders_write_order_change", args=[order.pk], current_app=model_admin.admin_site.name)
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Place an order",
        "opts": model_admin.opts,
        "form": form,
        "formset": formset,
        "errors": bool(form.errors or formset.total_error_count()),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/orders_write/order/place_order.html", context)


def _show_refusal(form: PlaceOrderForm, filled: list[Any], error: DomainError) -> None:
    """Put the service's refusal on the form: the message on top, each detail beside its input."""
    if isinstance(error, IdempotencyKeyReused):
        form.add_error(None, "This page already placed an order. Open the place-order page again for another one.")
        return
    form.add_error(None, describe(error, "order"))
    for key, problems in error.details.items():
        if not isinstance(problems, list):
            continue
        if key == "customer_id":
            form.add_error("customer", problems)
        elif key.startswith("lines[") and "]." in key:
            index, field = key[len("lines[") :].split("].", 1)
            if index.isdigit() and int(index) < len(filled) and field in filled[int(index)].fields:
                filled[int(index)].add_error(field, problems)
