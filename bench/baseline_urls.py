"""The site's URLs plus the benchmark's baseline: the same selector as the API, nothing around it.

``GET /bench/baseline/customers/<id>/orders/`` runs ``customer_recent_orders`` and returns a
``JsonResponse``: no authentication, no rights, no watermark, no throttle, no DRF. bench/reads.py
times it beside ``GET /api/customers/<id>/orders/`` under the same gunicorn; the API's cost
over it is everything the API adds to the table read (docs/benchmarks.md).
"""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns
from orders_read import queries


def customer_orders_baseline(request, customer_id: int) -> JsonResponse:
    orders = queries.customer_recent_orders(customer_id=customer_id, limit=20)
    return JsonResponse({"results": orders, "next": None})


urlpatterns = [
    path("bench/baseline/customers/<int:customer_id>/orders/", customer_orders_baseline),
    *site_urlpatterns,
]
