"""What every read-table admin shares: view only, index order only, no full counts.

Projections alone fill the read tables, so the admin must never write them: no add, change
or delete, no actions. The tables hold a row per order (a million and more), so a list page
must stay one index range read: the order is the index's and fixed (a crafted ``?o=`` cannot
ask for a sort), the count is estimated (``EstimatedCountPaginator``; the unfiltered total is
never counted), filter facets (a count per choice) are off, and the date drill-down asks only
for the ends of the date index (``date_nav``).
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.functional import cached_property

from config.admin_lookups import AllowListedLookups
from config.admin_paginator import EstimatedCountPaginator
from config.limits import MAX_BIGINT
from config.rights import VIEW_REPORTS
from orders_read.admin.date_nav import date_navigation


def can_view_reports(user: Any) -> bool:
    """Say whether ``user`` is active staff holding the report viewer's right (superusers hold every right)."""
    return bool(user.is_active and user.is_staff and user.has_perm(VIEW_REPORTS))


def parse_id(text: str) -> int | None:
    """Return ``text`` as a BIGINT id, or None when it is not one (so no query needs to run)."""
    text = text.strip()
    if not text.isdigit() or int(text) > MAX_BIGINT:
        return None
    return int(text)


class IndexOrderChangeList(ChangeList):
    """A change list that always reads in its admin's ``ordering`` (the index order)."""

    def get_ordering(self, request: Any, queryset: Any) -> list[Any]:
        return list(self.model_admin.ordering)

    @cached_property
    def date_navigation(self) -> dict[str, Any]:
        return date_navigation(self)


class ReadTableAdmin(AllowListedLookups, admin.ModelAdmin):
    """Base of the read-table admins: viewable by report viewers, never writable."""

    change_list_template = "admin/orders_read/read_table_change_list.html"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()
    actions = None
    list_per_page = 50

    def get_changelist(self, request: Any, **kwargs: Any) -> type[ChangeList]:
        return IndexOrderChangeList

    def has_module_permission(self, request: Any) -> bool:
        return can_view_reports(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return can_view_reports(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
