from django.apps import AppConfig


class OrdersWriteConfig(AppConfig):
    """The write side: models that keep the invariants, the services that change them, the outbox."""

    name = "orders_write"
    verbose_name = "Orders (write side)"

    def ready(self) -> None:
        from orders_write import timelines

        timelines.connect()
