from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Metrics, structured logs and traces; tracing starts only with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set."""

    name = "observability"

    def ready(self) -> None:
        from observability import tracing

        tracing.configure_from_environment()
