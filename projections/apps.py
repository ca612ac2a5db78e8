from django.apps import AppConfig


class ProjectionsConfig(AppConfig):
    """Projections: drain the outbox into the read tables, exactly once and gap-safe."""

    name = "projections"
