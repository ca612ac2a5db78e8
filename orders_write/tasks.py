"""The write side's housekeeping on the django-q2 worker: the hourly idempotency purge (ADR 0022)."""

PURGE_SCHEDULE_NAME = "orders: purge old idempotency records hourly"


def purge_idempotency_task() -> int:
    """Delete idempotency records past their retention; the scheduled entry point."""
    from orders_write.services.idempotency import idempotency_records_purge

    return idempotency_records_purge()


def ensure_purge_schedule(**kwargs) -> None:
    """Create (or correct) the hourly purge; safe to run on every migrate."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults={
            "func": "orders_write.tasks.purge_idempotency_task",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
