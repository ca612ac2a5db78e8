"""Daily sales from ``daily_sales`` (one row per day), and the way in to the per-day sales tables.

The list reads the day key backwards. A day's page adds that day's best products and customers
(the ``top_products`` and ``top_customers`` selectors). ``product_sales`` and ``customer_sales``
cannot be registered (composite keys), so their pages hang off this admin's URLs and rights.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from config.admin_lookups import dates
from config.money import money
from orders_read.admin.base import ReadTableAdmin
from orders_read.admin.sales_pages import customer_sales_page, product_sales_page
from orders_read.models import DailySales
from orders_read.queries import average_order_value, top_customers, top_products

TOP = 10


@admin.register(DailySales)
class DailySalesAdmin(ReadTableAdmin):
    list_display = (
        "day",
        "orders",
        "cancellations",
        "revenue_amount",
        "discount_total_amount",
        "average_order_value_amount",
    )
    change_list_template = "admin/orders_read/dailysales/change_list.html"
    date_hierarchy = "day"
    ordering = ("-day",)
    allowed_lookups = dates("day")
    fields = list_display
    readonly_fields = ("revenue_amount", "discount_total_amount", "average_order_value_amount")

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        pages = [
            path("products/", self.admin_site.admin_view(self.product_sales_view), name=f"{prefix}_products"),
            path("customers/", self.admin_site.admin_view(self.customer_sales_view), name=f"{prefix}_customers"),
        ]
        return pages + super().get_urls()  # first, or "products" would be taken for a day

    def product_sales_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return product_sales_page(self, request)

    def customer_sales_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return customer_sales_page(self, request)

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        day = context.get("original")
        if day is not None:
            context["top_products"] = [
                {**row, "revenue": money(row["revenue"])} for row in top_products(start=day.day, end=day.day, limit=TOP)
            ]
            context["top_customers"] = [
                {**row, "revenue": money(row["revenue"])}
                for row in top_customers(start=day.day, end=day.day, limit=TOP)
            ]
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description="revenue")
    def revenue_amount(self, obj: DailySales) -> str:
        return money(obj.revenue)

    @admin.display(description="discounts")
    def discount_total_amount(self, obj: DailySales) -> str:
        return money(obj.discount_total)

    @admin.display(description="average order value")
    def average_order_value_amount(self, obj: DailySales) -> str:
        return money(
            average_order_value({"orders": obj.orders, "cancellations": obj.cancellations, "revenue": obj.revenue})
        )
