"""Who may see and who may act on the projections pages.

Seeing (health, parked streams, the outbox) is for staff holding the report viewer's right,
``orders_read.view_reports``. Acting (retry, skip, rebuild) changes what the read side holds,
so it takes ``projections.manage_projections`` (superusers hold every right).
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList

from config.admin_lookups import AllowListedLookups
from config.rights import MANAGE_PROJECTIONS, VIEW_REPORTS


def can_view(user: Any) -> bool:
    return bool(user.is_active and user.is_staff and (user.has_perm(VIEW_REPORTS) or user.has_perm(MANAGE_PROJECTIONS)))


def can_manage(user: Any) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(MANAGE_PROJECTIONS))


class FixedOrderChangeList(ChangeList):
    """Always read in the admin's ``ordering`` (an index order); a crafted ``?o=`` cannot ask for a sort."""

    def get_ordering(self, request: Any, queryset: Any) -> list[Any]:
        return list(self.model_admin.ordering)


class ViewOnlyAdmin(AllowListedLookups, admin.ModelAdmin):
    """Visible to whoever ``can_view``; nobody adds, changes or deletes through it."""

    def has_module_permission(self, request: Any) -> bool:
        return can_view(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return can_view(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_manage_permission(self, request: Any) -> bool:
        """For ``@admin.action(permissions=["manage"])``."""
        return can_manage(request.user)
