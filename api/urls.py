"""Routes of the REST API under /api/ (see CONTRACT.md); any other /api/ path is a JSON 404."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from api.commands import catalog as catalog_commands
from api.commands import orders as order_commands
from api.errors import json_not_found
from api.queries import events as event_queries
from api.queries import orders as order_queries
from api.queries import reports
from api.routing import resource
from webhooks import urls as webhook_urls

app_name = "api"

# The docs run no inline script (Swagger UI's start-up script is a file of its own: the split
# view), but both UIs style their widgets inline, so only their pages allow inline styles.
docs_csp = csp_update({"style-src": ["'unsafe-inline'"]})

Orders = resource("Orders", get=order_queries.OrderListApi, post=order_commands.OrderPlaceApi)
Customer = resource("Customer", get=order_queries.CustomerDetailApi, patch=catalog_commands.CustomerChangeApi)
urlpatterns = [
    path("orders/", Orders.as_view(), name="order-list"),
    path("orders/<int:order_id>/", order_queries.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/history/", order_queries.OrderHistoryApi.as_view(), name="order-history"),
    path("orders/<int:order_id>/lines/", order_commands.OrderLineAddApi.as_view(), name="order-line-add"),
    path(
        "orders/<int:order_id>/lines/<str:sku>/", order_commands.OrderLineRemoveApi.as_view(), name="order-line-remove"
    ),
    path("orders/<int:order_id>/discount/", order_commands.OrderDiscountApi.as_view(), name="order-discount"),
    path("orders/<int:order_id>/confirm/", order_commands.OrderConfirmApi.as_view(), name="order-confirm"),
    path("orders/<int:order_id>/ship/", order_commands.OrderShipApi.as_view(), name="order-ship"),
    path("orders/<int:order_id>/deliver/", order_commands.OrderDeliverApi.as_view(), name="order-deliver"),
    path("orders/<int:order_id>/cancel/", order_commands.OrderCancelApi.as_view(), name="order-cancel"),
    path("customers/", catalog_commands.CustomerRegisterApi.as_view(), name="customer-register"),
    path("customers/<int:customer_id>/", Customer.as_view(), name="customer-detail"),
    path("customers/<int:customer_id>/orders/", order_queries.CustomerOrdersApi.as_view(), name="customer-orders"),
    path("products/", catalog_commands.ProductAddApi.as_view(), name="product-add"),
    path("products/<str:sku>/", catalog_commands.ProductChangeApi.as_view(), name="product-change"),
    path("reports/summary/", reports.SummaryApi.as_view(), name="report-summary"),
    path("reports/daily-sales/", reports.DailySalesApi.as_view(), name="report-daily-sales"),
    path("reports/top-products/", reports.TopProductsApi.as_view(), name="report-top-products"),
    path("reports/top-customers/", reports.TopCustomersApi.as_view(), name="report-top-customers"),
    path("projections/", reports.ProjectionsApi.as_view(), name="projections"),
    # Events out (ADR 0020): the feed and webhook endpoints.
    path("events/", event_queries.EventFeedApi.as_view(), name="event-feed"),
    path("webhooks/", include(webhook_urls)),  # in this namespace: api:webhook-detail and so on
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
    # JSON 404 for every method (not a CSRF page) and every path, a newline in it included.
    re_path(r"^[\s\S]*$", csrf_exempt(json_not_found)),
]
