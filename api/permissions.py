"""Who may do what: three rights (``config.rights``), checked per operation, never implied by being logged in.

- ``MANAGE_ORDERS``: place and change orders (a storefront, an order clerk).
- ``MANAGE_CATALOG``: register and change customers, add and change products.
- ``VIEW_REPORTS``: sales reports and projection health (a manager).

Reading orders and customers needs any one of the three: whoever places orders, keeps the
customer file or reads reports must be able to look an order up. Superusers hold every right.

The check costs one statement per request (ADR 0023): a user's own and their groups' rights are
read together, where ``ModelBackend`` reads them with two, and a superuser's with none.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from rest_framework.permissions import BasePermission

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, VIEW_REPORTS

READ_ORDERS = (MANAGE_ORDERS, MANAGE_CATALOG, VIEW_REPORTS)


def any_of(*rights: str) -> type[BasePermission]:
    """Return a permission class granting access to an authenticated user holding any of ``rights``."""

    class HoldsRight(BasePermission):
        message = f"this operation needs one of the rights: {', '.join(rights)}"
        granted_by = rights  # read by api.schema to tell API clients which right an operation needs

        def has_permission(self, request, view) -> bool:
            user = request.user
            if not (user and user.is_authenticated and user.is_active):
                return False
            if user.is_superuser:
                return True
            load_rights(user)
            return any(user.has_perm(right) for right in rights)

    HoldsRight.__name__ = HoldsRight.__qualname__ = f"HoldsRight[{'|'.join(rights)}]"
    return HoldsRight


def load_rights(user) -> None:
    """Fill ``ModelBackend``'s per-user cache with the user's and their groups' rights in one statement.

    ``has_perm`` then answers from memory, as ModelBackend does after its own two statements.
    """
    if hasattr(user, "_perm_cache"):
        return
    user_model = get_user_model()
    user_rights = user_model._meta.get_field("user_permissions").remote_field.through._meta
    memberships = user_model._meta.get_field("groups").remote_field.through._meta
    group_rights = Group._meta.get_field("permissions").remote_field.through._meta
    permission, content_type = Permission._meta, ContentType._meta
    sql = (
        f"SELECT ct.app_label, p.codename FROM {permission.db_table} p "
        f"JOIN {content_type.db_table} ct ON ct.id = p.content_type_id WHERE p.id IN ("
        f"SELECT permission_id FROM {user_rights.db_table} WHERE {_user_column(user_rights)} = %s UNION ALL "
        f"SELECT gp.permission_id FROM {group_rights.db_table} gp JOIN {memberships.db_table} ug "
        f"ON ug.group_id = gp.group_id WHERE ug.{_user_column(memberships)} = %s)"
    )
    with connections[router.db_for_read(Permission)].cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk])
        user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}


def _user_column(through) -> str:
    return next(field.column for field in through.fields if field.related_model is get_user_model())
