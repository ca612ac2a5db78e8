"""OpenTelemetry traces, off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (ADR 0024).

When on: a span per HTTP request (opentelemetry-instrumentation-django), per domain command
(``command_span``), per database statement (a Django ``execute_wrapper`` on every connection:
no patched driver) and per drain batch (``batch_span``). A command stores the W3C
``traceparent`` of its span in each event it writes (the outbox's ``traceparent`` column), and
a batch span *links* to the traceparents of the events it applies: a batch serves many
requests, so it is a span of its own linked to each of them, not a child of one.

Only what has a parent or did work is traced (ADR 0029): a statement gets a span only inside a
span being recorded (a request, a command, a batch), never a root span of its own (a worker's
broker polls and idle loops would be most of the traces), and ``batch_span`` is opened only for
a batch that read events. Sampling is the SDK's own, from ``OTEL_TRACES_SAMPLER`` and
``OTEL_TRACES_SAMPLER_ARG`` (default ``parentbased_always_on``): no sampler is passed here.

When off, every function here returns at once (``nullcontext``, ``None``): nothing is imported
from OpenTelemetry on the hot paths. Imports nothing from the project.
"""

import os
import time
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
    # No sampler argument: the SDK then reads OTEL_TRACES_SAMPLER(_ARG) (ADR 0029).
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
    if _tracer is None or not _inside_recorded_span():
        return execute(sql, params, many, context)  # no root span per statement (ADR 0029)
    connection = context["connection"]
    name = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    attributes = {"db.system": connection.vendor, "db.statement": sql[:2000], "db.name": str(connection.alias)}
    with _tracer.start_as_current_span(name, kind=_client_kind(), attributes=attributes):
        return execute(sql, params, many, context)


def _inside_recorded_span() -> bool:
    from opentelemetry import trace

    return trace.get_current_span().is_recording()


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
def batch_span(consumer: str, *, started: float, traceparents: Iterable[str | None]) -> Iterator[Any]:
    """A span for one drain batch that read events, linked to the requests that wrote them.

    Opened once the batch is known not to be empty (an empty one did nothing and gets no span,
    ADR 0029), it starts at ``started`` (``time.perf_counter()`` when the batch began) and links
    to each distinct traceparent, at most ``MAX_LINKS_PER_BATCH``.
    """
    if _tracer is None:
        yield None
        return
    links = _links(traceparents)
    start_time = time.time_ns() - int((time.perf_counter() - started) * 1e9)
    attributes = {"orders.consumer": consumer, "orders.linked_requests": len(links)}
    with _tracer.start_as_current_span(
        f"drain {consumer}", attributes=attributes, links=links, start_time=start_time
    ) as span:
        yield span


def _links(traceparents: Iterable[str | None]) -> list[Any]:
    from opentelemetry import trace
    from opentelemetry.trace import Link
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    seen: set[str] = set()
    links = []
    for traceparent in traceparents:
        if traceparent is None or traceparent in seen:
            continue
        seen.add(traceparent)
        context = trace.get_current_span(propagator.extract({"traceparent": traceparent})).get_span_context()
        if context.is_valid:
            links.append(Link(context))
        if len(seen) >= MAX_LINKS_PER_BATCH:
            break
    return links
