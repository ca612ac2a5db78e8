from django.apps import AppConfig


class OrdersReadConfig(AppConfig):
    """The read side: denormalised read tables and the query functions over them."""

    name = "orders_read"
    verbose_name = "Orders (read side)"
