from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrdersWriteConfig(AppConfig):
    """The write side: models that keep the invariants, the services that change them, the outbox."""

    name = "orders_write"
    verbose_name = "Orders (write side)"

    def ready(self) -> None:
        from orders_write import timelines

        timelines.connect()

        from orders_write.tasks import ensure_purge_schedule

        post_migrate.connect(ensure_purge_schedule, sender=self, dispatch_uid="orders-idempotency-purge-schedule")
