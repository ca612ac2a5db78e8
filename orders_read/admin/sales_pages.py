"""Admin pages for ``product_sales`` and ``customer_sales``, the per-day tables with composite keys.

Django 5.2's admin refuses to register a model whose primary key is composite, so these are
plain views mounted under the daily-sales admin (``…/dailysales/products/`` and
``…/customers/``) with the same rights. A page is one range of the ``(day, …)`` primary key,
read backwards (newest day first) and cut by ``LIMIT``: a date range is always applied (the
last 30 days unless chosen, at most a year), a sku or customer narrows it, and there is no
count, only newer/older links. The customer page adds one query for the customers' names.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from config.limits import MAX_BIGINT, MAX_RANGE_DAYS
from config.money import money
from orders_read.models import CustomerSales, CustomerStats, ProductSales

PAGE_SIZE = 100
DEFAULT_DAYS = 30


class DayRangeForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        end = data.get("end") or timezone.now().date()
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("“From” must not be after “To”.")
        data["narrowed"] = (end - start).days >= MAX_RANGE_DAYS
        if data["narrowed"]:
            start = end - timedelta(days=MAX_RANGE_DAYS - 1)
        data["start"], data["end"] = start, end
        return data


class ProductSalesForm(DayRangeForm):
    sku = forms.CharField(required=False, max_length=64, label="SKU (exact)")


class CustomerSalesForm(DayRangeForm):
    customer_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT, label="Customer number")


@dataclass
class Table:
    """What ``sales_rows.html`` renders: headers, rows of cells, and which columns are numbers."""

    headers: list[str]
    numeric: set[int]
    rows: list[list[dict[str, Any]]] = field(default_factory=list)


def product_sales_page(model_admin: Any, request: HttpRequest) -> TemplateResponse:
    """List ``product_sales`` rows, newest day first: one query."""
    form = ProductSalesForm(request.GET)
    table = Table(["Day", "SKU", "Product", "Units", "Revenue (before discounts)"], numeric={3, 4})
    rows: list[dict[str, Any]] = []
    if form.is_valid():
        selection = ProductSales.objects.filter(day__range=(form.cleaned_data["start"], form.cleaned_data["end"]))
        if form.cleaned_data["sku"]:
            selection = selection.filter(sku=form.cleaned_data["sku"])
        rows = _page(request, selection.order_by("-day", "-sku").values())
        table.rows = [
            [
                {"text": row["day"].isoformat(), "url": _day_url(model_admin, row["day"])},
                {"text": row["sku"], "url": _with(request, sku=row["sku"])},
                {"text": row["product_name"]},
                {"text": row["units"]},
                {"text": money(row["revenue"])},
            ]
            for row in rows[:PAGE_SIZE]
        ]
    return _render(model_admin, request, form, table, rows, title="Product sales per day", table_id="product-sales")


def customer_sales_page(model_admin: Any, request: HttpRequest) -> TemplateResponse:
    """List ``customer_sales`` rows, newest day first, with the customers' names: two queries."""
    form = CustomerSalesForm(request.GET)
    table = Table(["Day", "Customer", "Orders", "Revenue"], numeric={2, 3})
    rows: list[dict[str, Any]] = []
    if form.is_valid():
        selection = CustomerSales.objects.filter(day__range=(form.cleaned_data["start"], form.cleaned_data["end"]))
        if form.cleaned_data["customer_id"]:
            selection = selection.filter(customer_id=form.cleaned_data["customer_id"])
        rows = _page(request, selection.order_by("-day", "-customer_id").values())
        shown = rows[:PAGE_SIZE]
        names = dict(
            CustomerStats.objects.filter(customer_id__in={row["customer_id"] for row in shown}).values_list(
                "customer_id", "name"
            )
            if shown
            else ()
        )
        table.rows = [
            [
                {"text": row["day"].isoformat(), "url": _day_url(model_admin, row["day"])},
                {
                    "text": f"{names.get(row['customer_id'], 'Customer')} ({row['customer_id']})",
                    "url": reverse("admin:orders_read_customerstats_change", args=[row["customer_id"]]),
                },
                {"text": row["orders"]},
                {"text": money(row["revenue"])},
            ]
            for row in shown
        ]
    return _render(model_admin, request, form, table, rows, title="Customer sales per day", table_id="customer-sales")


def _page_number(request: HttpRequest) -> int:
    text = request.GET.get("p", "1")
    return int(text) if text.isdigit() and 0 < int(text) <= 10_000 else 1


def _page(request: HttpRequest, rows: Any) -> list[dict[str, Any]]:
    """Fetch the requested page plus one row, which tells whether an older page exists."""
    offset = (_page_number(request) - 1) * PAGE_SIZE
    return list(rows[offset : offset + PAGE_SIZE + 1])


def _with(request: HttpRequest, **changes: Any) -> str:
    query = request.GET.copy()
    query.pop("p", None)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return f"?{query.urlencode()}"


def _day_url(model_admin: Any, day: date) -> str:
    return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_change", args=[day.isoformat()])


def _render(
    model_admin: Any, request: HttpRequest, form: DayRangeForm, table: Table, rows: list, *, title: str, table_id: str
) -> TemplateResponse:
    page = _page_number(request)
    older = len(rows) > PAGE_SIZE
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": form,
        "table": table,
        "table_id": table_id,
        "page": page,
        "newer_url": _with(request, p=page - 1 if page > 2 else None) if page > 1 else None,
        "older_url": _with(request, p=page + 1) if older else None,
        "narrowed": form.is_valid() and form.cleaned_data["narrowed"],
        "max_days": MAX_RANGE_DAYS,
        "page_size": PAGE_SIZE,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/orders_read/sales_rows.html", context)
