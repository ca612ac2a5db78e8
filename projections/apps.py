from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProjectionsConfig(AppConfig):
    """Projections: drain the outbox into the read tables, exactly once and gap-safe."""

    name = "projections"

    def ready(self) -> None:
        from projections.tasks import ensure_sweep_schedule

        post_migrate.connect(ensure_sweep_schedule, sender=self, dispatch_uid="projections-sweep-schedule")
