"""Every admin change list filters only by the exact lookups it names (ADR 0023, config/admin_lookups.py).

Django's default ``lookup_allowed`` lets any staff URL run ``__regex`` or ``__icontains`` on a
model's own columns (a full scan); here each such URL is a 400 and each list's own filters work.
"""

import pytest
from django.contrib import admin

from config.admin_lookups import AllowListedLookups

CHANGELISTS = {
    "/admin/orders_write/customer/": ({"name__regex": "^A"}, {"email__icontains": "x"}, {"is_active__exact": "1"}),
    "/admin/orders_write/product/": ({"name__icontains": "a"}, {"sku__regex": "."}, {"is_active__exact": "0"}),
    "/admin/orders_write/order/": (
        {"tracking_number__icontains": "1"},
        {"status__regex": "P"},
        {"status__exact": "PENDING"},
    ),
    "/admin/orders_read/ordersummary/": (
        {"customer_name__regex": "a"},
        {"placed_at__regex": "2"},
        {"status": "PENDING"},
    ),
    "/admin/orders_read/customerstats/": (
        {"email__icontains": "a"},
        {"is_active__regex": "t"},
        {"is_active__exact": "1"},
    ),
    "/admin/orders_read/dailysales/": ({"day__regex": "2"}, {"revenue__gte": "1"}, {"day__year": "2024"}),
    "/admin/projections/parkedstream/": ({"error__icontains": "x"}, {"stream__regex": "."}, {"state__exact": "parked"}),
}


@pytest.mark.parametrize("path", sorted(CHANGELISTS))
def test_ad_hoc_lookups_are_a_400_and_the_lists_filters_still_work(admin_client, path):
    *refused, allowed = CHANGELISTS[path]
    for query in refused:
        assert admin_client.get(path, query).status_code == 400, (path, query)
    assert admin_client.get(path, allowed).status_code == 200, (path, allowed)


def test_every_registered_admin_uses_the_allow_list():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"orders_write", "orders_read", "projections"}:
            assert isinstance(model_admin, AllowListedLookups), model
