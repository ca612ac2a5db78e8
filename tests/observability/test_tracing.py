"""Tracing with an in-memory exporter: one order's trace holds the request, the command and the batch linked to it."""

import pytest
from django.db import connection
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from observability import tracing
from projections.runtime.registry import consumers


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    tracing.configure(exporter, batch=False)
    yield exporter
    tracing.shutdown()


def test_one_order_traces_request_command_statements_and_the_linked_batches(spans, clerk_client, customer, sku, drain):
    response = clerk_client.post(
        "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 2}]}, format="json"
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["order_id"]
    drain()
    finished = spans.get_finished_spans()

    (request,) = [
        s
        for s in finished
        if s.kind == SpanKind.SERVER
        and s.attributes.get("http.method", s.attributes.get("http.request.method")) == "POST"
    ]
    (command,) = [s for s in finished if s.name == "command order_place"]
    assert command.context.trace_id == request.context.trace_id
    assert command.parent.span_id == request.context.span_id
    statements = [s for s in finished if s.parent is not None and s.parent.span_id == command.context.span_id]
    assert any(s.name == "INSERT" and "outbox_event" in s.attributes["db.statement"] for s in statements)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT traceparent FROM outbox_event WHERE aggregate_type = 'order' AND aggregate_id = %s", [order_id]
        )
        (traceparent,) = cursor.fetchone()
    trace_hex = format(request.context.trace_id, "032x")
    assert traceparent.startswith(f"00-{trace_hex}-{format(command.context.span_id, '016x')}-")  # flags: sampled

    linked = [
        s for s in finished
        if s.name.startswith("drain ") and any(link.context.trace_id == request.context.trace_id for link in s.links)
    ]  # fmt: skip
    handling = {f"drain {name}" for name, consumer in consumers().items() if "OrderPlaced" in consumer.event_types()}
    assert {s.name for s in linked} == handling and "drain order_views" in handling
    for batch in linked:
        (link,) = [link for link in batch.links if link.context.trace_id == request.context.trace_id]
        assert link.context.span_id == command.context.span_id
        assert batch.context.trace_id != request.context.trace_id  # a trace of its own, linked, not a child


def test_without_tracing_no_traceparent_is_stored_and_nothing_is_traced(clerk_client, customer, sku, db):
    assert not tracing.enabled()
    assert tracing.current_traceparent() is None
    response = clerk_client.post(
        "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]}, format="json"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT traceparent FROM outbox_event WHERE aggregate_id = %s AND aggregate_type = 'order'",
                       [response.json()["order_id"]])  # fmt: skip
        assert cursor.fetchone() == (None,)


def test_a_statement_outside_any_span_and_an_empty_batch_make_no_span(spans, clerk_client, customer, sku, drain):
    """A worker's broker polls, idle loops and empty batches traced nothing (ADR 0029)."""
    drain()  # the fixtures' events: batches that did work
    spans.clear()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # as django-q2's broker polls: no request, no command, no batch around it
    assert not any(drain().values())  # every consumer caught up: each drain batch reads nothing
    assert spans.get_finished_spans() == ()

    response = clerk_client.post(
        "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]}, format="json"
    )
    assert response.status_code == 201
    drain()
    finished = spans.get_finished_spans()
    batches = [s for s in finished if s.name.startswith("drain ")]
    assert batches and all(s.attributes["orders.linked_requests"] == 1 for s in batches)
    for batch in batches:  # the batch's own statements (its events' upserts, the checkpoint) are its children
        children = [s for s in finished if s.parent is not None and s.parent.span_id == batch.context.span_id]
        assert any(s.name == "UPDATE" and "projection_checkpoint" in s.attributes["db.statement"] for s in children)
    assert all(s.parent is not None for s in finished if s.attributes.get("db.system"))  # no root statement span


def test_sampling_is_the_sdks_from_the_standard_variables(monkeypatch, clerk_client, customer, sku, drain):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0")
    exporter = InMemorySpanExporter()
    tracing.configure(exporter, batch=False)
    try:
        response = clerk_client.post(
            "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]}, format="json"
        )
        assert response.status_code == 201
        drain()
    finally:
        tracing.shutdown()
    assert exporter.get_finished_spans() == ()  # ratio 0: nothing sampled, nothing exported
