"""OpenTelemetry traces, off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (ADR 0024).

When on: a span per HTTP request (opentelemetry-instrumentation-django), per domain command
(``command_span``), per database statement (a Django ``execute_wrapper`` on every connection:
no patched driver) and per drain batch (``batch_span``). A command stores the W3C
``traceparent`` of its span in each event it writes (the outbox's ``traceparent`` column), and
a batch span *links* to the traceparents of the events it applies: a batch serves many
requests, so it is a span of its own linked to each of them, not a child of one.

When off, every function here returns at once (``nullcontext``, ``None``): nothing is imported
from OpenTelemetry on the hot paths. Imports nothing from the project.
"""

import os
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

MAX_LINKS_PER_BATCH = 128  # a catch-up batch links to its first 128 distinct requests

_tracer: Any = None
_provider: Any = None


def enabled() -> bool:
    return _tracer is not None


def configure_from_environment() -> None:
    """Start tracing with the OTLP/HTTP exporter when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or enabled():
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    configure(OTLPSpanExporter(), batch=True)  # endpoint, headers, timeout: the standard OTEL_* variables


def configure(exporter: Any, *, batch: bool) -> None:
    """Trace into ``exporter`` (``batch=False``: export each span as it ends, for tests)."""
    global _tracer, _provider
    from django.db.backends.signals import connection_created
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME", "orders")
    _provider = TracerProvider(resource=Resource.create({"service.name": service}))
    _provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    _tracer = _provider.get_tracer("orders")
    DjangoInstrumentor().instrument(tracer_provider=_provider)
    connection_created.connect(_trace_statements, dispatch_uid="observability-trace-statements")
    from django.db import connections

    for connection in connections.all(initialized_only=True):  # this thread's, opened before tracing started
        _trace_statements(None, connection)


def shutdown() -> None:
    """Stop tracing (tests): flush, uninstrument, forget the provider."""
    global _tracer, _provider
    from django.db.backends.signals import connection_created
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    if _provider is not None:
        _provider.shutdown()
    DjangoInstrumentor().uninstrument()
    connection_created.disconnect(dispatch_uid="observability-trace-statements")
    _tracer = _provider = None


def _trace_statements(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _statement_span not in connection.execute_wrappers:
        connection.execute_wrappers.append(_statement_span)


def _statement_span(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    if _tracer is None:
        return execute(sql, params, many, context)
    connection = context["connection"]
    name = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    attributes = {"db.system": connection.vendor, "db.statement": sql[:2000], "db.name": str(connection.alias)}
    with _tracer.start_as_current_span(name, kind=_client_kind(), attributes=attributes):
        return execute(sql, params, many, context)


def _client_kind() -> Any:
    from opentelemetry.trace import SpanKind

    return SpanKind.CLIENT


def command_span(command: str) -> AbstractContextManager[Any]:
    """A span for one domain command (``nullcontext`` when tracing is off)."""
    if _tracer is None:
        return nullcontext()
    return _tracer.start_as_current_span(f"command {command}", attributes={"orders.command": command})


def current_traceparent() -> str | None:
    """Return the W3C ``traceparent`` of the current span, ``None`` when off or outside a span."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def batch_span(consumer: str) -> Iterator[Any]:
    """A span for one drain batch; ``link_events`` links it to the requests that wrote its events."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(f"drain {consumer}", attributes={"orders.consumer": consumer}) as span:
        yield span


def link_events(span: Any, traceparents: Iterable[str | None]) -> None:
    """Link ``span`` to each distinct traceparent (at most ``MAX_LINKS_PER_BATCH``)."""
    if span is None:
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    seen: set[str] = set()
    for traceparent in traceparents:
        if traceparent is None or traceparent in seen:
            continue
        seen.add(traceparent)
        context = trace.get_current_span(propagator.extract({"traceparent": traceparent})).get_span_context()
        if context.is_valid:
            span.add_link(context)
        if len(seen) >= MAX_LINKS_PER_BATCH:
            break
    span.set_attribute("orders.linked_requests", len(seen))
