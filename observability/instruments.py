"""Every metric the processes record themselves, and the small functions that record them.

Names follow Prometheus' conventions: the ``orders_`` prefix, the unit in the name, ``_total``
on counters. Labels are bounded sets, never an id or a path: a command's function name, an
error code, a URL pattern's name, an HTTP method and status, a consumer's name, a fixed
outcome. Under gunicorn (and beside the django-q2 workers) set ``PROMETHEUS_MULTIPROC_DIR``
before the process starts: prometheus-client then keeps each process's values in files there
and ``/metrics`` sums them (``observability.views``; ADR 0024). Figures that live in the
database (lag, parked streams, state, outbox head) are not recorded here but read at scrape
time (``observability.collector``), so recording costs no statement.

Imports nothing from the project: the write side, the runtime and the API call these functions.
"""

import re

from prometheus_client import Counter, Gauge, Histogram

# Seconds. A command takes about a millisecond; an API request a few; a drain batch up to a second.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
READ_YOUR_WRITES_OUTCOMES = ("reached", "lagging")
WAIT_KINDS = ("read-your-writes", "long-poll")  # what holds a web thread waiting (api.waits, ADR 0028)
# What a webhook relay or the NATS relay reports per delivery attempt (their apps record them).
WEBHOOK_OUTCOMES = (
    "delivered",
    "failed",
    "timeout",
    "rejected",
)  # rejected: the receiver refused (4xx, a redirect) or the target was refused
BUS_OUTCOMES = ("published", "failed", "timeout")
_OUTCOME = re.compile(r"[a-z][a-z_]{0,39}")  # "ok" or a stable error code: lower-case words, never data

commands_total = Counter(
    "orders_commands_total",
    "Domain commands run, by command and outcome (ok or the error code).",
    ["command", "outcome"],
)
command_duration_seconds = Histogram(
    "orders_command_duration_seconds",
    "Time a domain command took, its transaction and after-commit nudge included.",
    ["command"],
    buckets=FAST_BUCKETS,
)
api_requests_total = Counter(
    "orders_http_requests_total", "HTTP requests answered, by URL pattern name, method and status.",
    ["route", "method", "status"],
)  # fmt: skip
api_request_duration_seconds = Histogram(
    "orders_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by URL pattern name and method.",
    ["route", "method"],
    buckets=FAST_BUCKETS,
)
read_your_writes_waits_total = Counter(
    "orders_read_your_writes_waits_total",
    "Queries that waited for min_position, by outcome (reached, or lagging: answered 503).",
    ["outcome"],
)
read_your_writes_wait_seconds = Histogram(
    "orders_read_your_writes_wait_seconds", "Time a query with min_position waited for the read side.",
    buckets=WAIT_BUCKETS,
)  # fmt: skip
waits_in_progress = Gauge(
    "orders_waits_in_progress",
    "Requests waiting now in a wait slot (min_position, a feed long-poll), by kind; summed over live processes.",
    ["kind"],
    multiprocess_mode="livesum",
)
consumer_batch_duration_seconds = Histogram(
    "orders_consumer_batch_duration_seconds",
    "Time one drain batch took (read, apply, checkpoint), by consumer; only batches that read events.",
    ["consumer"],
    buckets=BATCH_BUCKETS,
)
consumer_batch_events_total = Counter(
    "orders_consumer_batch_events_total",
    "Events read by drain batches in this host's processes, by consumer (the cluster-wide figure is "
    "orders_consumer_events_applied_total).",
    ["consumer"],
)
webhook_deliveries_total = Counter(
    "orders_webhook_deliveries_total", "Webhook delivery attempts, by outcome.", ["outcome"]
)
webhook_delivery_duration_seconds = Histogram(
    "orders_webhook_delivery_duration_seconds", "Time a webhook delivery attempt took, by outcome.", ["outcome"],
    buckets=FAST_BUCKETS,
)  # fmt: skip
webhook_endpoints_disabled_total = Counter(
    "orders_webhook_endpoints_disabled_total", "Webhook endpoints disabled after failing for too long."
)
bus_publishes_total = Counter("orders_bus_publishes_total", "NATS publishes of events, by outcome.", ["outcome"])
bus_publish_duration_seconds = Histogram(
    "orders_bus_publish_duration_seconds", "Time a NATS publish took until JetStream acknowledged it, by outcome.",
    ["outcome"], buckets=FAST_BUCKETS,
)  # fmt: skip


_children: dict[tuple, object] = {}  # (metric, *labels) → child: label sets are bounded, so is this


def _child(metric, *labels: str):
    """``metric.labels(*labels)``, remembered: a dict lookup instead of the library's checks and lock."""
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def outcome_label(outcome: str) -> str:
    """Return ``outcome`` if it is a word-like code; raise for anything that could be data (bounded labels)."""
    if not _OUTCOME.fullmatch(outcome):
        raise ValueError(f"not a bounded outcome label: {outcome!r}")
    return outcome


def record_command(command: str, outcome: str, seconds: float) -> None:
    """Count one command run (``outcome``: ``ok`` or its error code) and its duration."""
    if outcome != "ok":
        outcome_label(outcome)
    _child(commands_total, command, outcome).inc()
    _child(command_duration_seconds, command).observe(seconds)


def record_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request under its URL pattern name (never its path)."""
    method = method if method in HTTP_METHODS else "other"
    _child(api_requests_total, route, method, str(status)).inc()
    _child(api_request_duration_seconds, route, method).observe(seconds)


def record_read_your_writes(reached: bool, seconds: float) -> None:
    read_your_writes_waits_total.labels("reached" if reached else "lagging").inc()
    read_your_writes_wait_seconds.observe(seconds)


def record_wait_slot(kind: str, held: int) -> None:
    """A request took (``held=1``) or gave back (``held=-1``) a wait slot of ``kind`` (one of ``WAIT_KINDS``)."""
    if kind not in WAIT_KINDS:
        raise ValueError(f"wait kind {kind!r} is not one of {WAIT_KINDS}")
    _child(waits_in_progress, kind).inc(held)


def record_batch(consumer: str, events: int, seconds: float) -> None:
    """Count one drain batch that read ``events`` events (empty batches are not recorded)."""
    _child(consumer_batch_duration_seconds, consumer).observe(seconds)
    _child(consumer_batch_events_total, consumer).inc(events)


def record_webhook_delivery(outcome: str, seconds: float | None = None) -> None:
    """For the webhook relay: one delivery attempt and its ``outcome`` (one of ``WEBHOOK_OUTCOMES``)."""
    if outcome not in WEBHOOK_OUTCOMES:
        raise ValueError(f"webhook outcome {outcome!r} is not one of {WEBHOOK_OUTCOMES}")
    webhook_deliveries_total.labels(outcome).inc()
    if seconds is not None:
        webhook_delivery_duration_seconds.labels(outcome).observe(seconds)


def record_webhook_endpoint_disabled() -> None:
    """For the webhook relay: an endpoint was disabled (alert ``WebhookEndpointDisabled``)."""
    webhook_endpoints_disabled_total.inc()


def record_bus_publish(outcome: str, seconds: float | None = None, *, count: int = 1) -> None:
    """For the NATS relay: ``count`` publishes (a batch, acknowledged together) and their ``outcome``
    (one of ``BUS_OUTCOMES``); ``seconds`` is how long the batch took."""
    if outcome not in BUS_OUTCOMES:
        raise ValueError(f"bus outcome {outcome!r} is not one of {BUS_OUTCOMES}")
    bus_publishes_total.labels(outcome).inc(count)
    if seconds is not None:
        bus_publish_duration_seconds.labels(outcome).observe(seconds)
