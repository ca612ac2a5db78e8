"""Observability: Prometheus metrics, structured logs and optional OpenTelemetry traces (ADR 0024).

Domain code imports only the leaf modules ``instruments``, ``context`` and ``tracing``, which
import nothing from the project; the rest (the ``/metrics`` view, the scrape-time collector,
the request middleware) sits at the edge beside the API.
"""
