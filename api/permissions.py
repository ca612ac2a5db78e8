"""Who may do what: three rights (``config.rights``), checked per operation, never implied by being logged in.

- ``MANAGE_ORDERS``: place and change orders (a storefront, an order clerk).
- ``MANAGE_CATALOG``: register and change customers, add and change products.
- ``VIEW_REPORTS``: sales reports and projection health (a manager).

Reading orders and customers needs any one of the three: whoever places orders, keeps the
customer file or reads reports must be able to look an order up. Superusers hold every right.
"""

from rest_framework.permissions import BasePermission

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, VIEW_REPORTS

READ_ORDERS = (MANAGE_ORDERS, MANAGE_CATALOG, VIEW_REPORTS)


def any_of(*rights: str) -> type[BasePermission]:
    """Return a permission class granting access to an authenticated user holding any of ``rights``."""

    class HoldsRight(BasePermission):
        message = f"this operation needs one of the rights: {', '.join(rights)}"

        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and any(user.has_perm(right) for right in rights))

    HoldsRight.__name__ = HoldsRight.__qualname__ = f"HoldsRight[{'|'.join(rights)}]"
    return HoldsRight
