"""The rights (Django permission names) every door checks, each spelt once.

A right is ``"<app label>.<codename>"``, the string ``user.has_perm`` takes; the models declare
the codenames in their ``Meta.permissions`` (through ``codename``). The API, the staff admin and
the dashboard check the same rights, so a typo in one of them would silently refuse (or worse,
never match) a right: naming them here makes such a typo an import error instead.

The module imports nothing, so every package may import it (the import-linter contracts keep
domain packages from ``config.settings`` and ``config.urls`` only). Superusers hold every right.
"""

# Place and change orders (a storefront, an order clerk).
MANAGE_ORDERS = "orders_write.manage_orders"

# Register and change customers, add and change products.
MANAGE_CATALOG = "orders_write.manage_catalog"

# Read sales reports and projection health (a manager).
VIEW_REPORTS = "orders_read.view_reports"

# Retry or skip parked streams and rebuild projections: acting changes what the read side holds.
MANAGE_PROJECTIONS = "projections.manage_projections"

# Who may read a customer's contact details (email): those who deal with the customer. Reading
# reports alone does not need them (least privilege, ADR 0022); any one of these suffices.
SEE_CUSTOMER_CONTACTS = (MANAGE_ORDERS, MANAGE_CATALOG)


def sees_customer_contacts(user) -> bool:
    """Say whether ``user`` holds a right in ``SEE_CUSTOMER_CONTACTS`` (superusers hold every right)."""
    return any(user.has_perm(right) for right in SEE_CUSTOMER_CONTACTS)


def codename(right: str) -> str:
    """Return the codename part of ``right`` ("manage_orders"), as ``Meta.permissions`` declares it."""
    return right.partition(".")[2]


# Read the event feed (``GET /api/events/``): every event of every order, customer and product.
VIEW_EVENTS = "webhooks.view_events"

# Create, change and delete webhook endpoints, see their deliveries, resend and replay.
MANAGE_WEBHOOKS = "webhooks.manage_webhooks"
