"""The delivery worker: POSTs queued deliveries, in version order per (endpoint, order), retrying.

A thread claims up to ``CLAIM_LIMIT`` due deliveries in one transaction (``FOR UPDATE SKIP
LOCKED``), POSTs each over its kept-alive connections (``webhooks.transport``) and records the
outcomes in the same transaction, in one statement; what it has not attempted after
``ROUND_SECONDS`` goes back untouched. Only the *head* of a stream (the lowest pending
``aggregate_version`` of an aggregate for an endpoint) is ever claimable, and a claimed head
stays locked until its outcome commits, so one order never has two deliveries in flight and its
events arrive in version order; a failing head holds back only its own order's later events for
that endpoint. A worker killed mid-POST releases its locks with its connection and the
deliveries are attempted again: at least once, always with the same ``webhook-id`` (the event
id). Retries back off exponentially with jitter for
``WEBHOOK_RETRY_FOR_SECONDS`` (3 days), then the delivery is parked as failed; an endpoint
failing that long is disabled. See ADR 0020.
"""

import http.client
import json
import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from config.databases import read_alias
from observability.context import log_context
from observability.instruments import record_webhook_delivery, record_webhook_endpoint_disabled
from projections.runtime.loop import drain
from projections.sql import bulk_set, on_postgresql
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import signature_header
from webhooks.targets import TargetRefused
from webhooks.transport import ConnectionPool

logger = logging.getLogger(__name__)

CLAIM_LIMIT = 20
# A round stops starting POSTs after this long (the rest of its claim is released untouched), so
# the claim's locks and its idle transaction stay short whatever the receivers do.
ROUND_SECONDS = 5
MAX_BACKOFF_SECONDS = 4 * 3600
USER_AGENT = "orders-webhooks/1"

_CLAIM = """
    SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id
    WHERE d.state = 'pending' AND d.next_attempt_at <= %s AND e.enabled
      AND NOT EXISTS (
          SELECT 1 FROM webhook_delivery p
          WHERE p.endpoint_id = d.endpoint_id AND p.aggregate_type = d.aggregate_type
            AND p.aggregate_id = d.aggregate_id AND p.state = 'pending'
            AND p.aggregate_version < d.aggregate_version)
    ORDER BY d.next_attempt_at, d.id
    LIMIT %s
"""


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: about base * 2^(attempts-1), capped, times 0.5-1.5."""
    delay = min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 30), MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.5, 1.5)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    overlapping = (
        endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now
    )
    return [endpoint.secret, endpoint.previous_secret] if overlapping else [endpoint.secret]


def attempt(delivery: WebhookDelivery, endpoint: WebhookEndpoint, pool: ConnectionPool) -> bool:
    """POST one delivery and record the outcome on it (unsaved); return whether it was delivered."""
    now = timezone.now()
    body = bytes(delivery.body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": str(delivery.event_id),
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(
            event_id=str(delivery.event_id),
            timestamp=now.astimezone(UTC),
            body=body,
            secrets_in_use=signing_secrets(endpoint, now),
        ),
    }
    started = time.monotonic()
    status, error, outcome = None, "", "delivered"
    try:
        status = pool.post(endpoint.url, body, headers)
        if 300 <= status < 400:
            error, outcome = f"HTTP {status}: redirects are not followed", "rejected"
        elif 400 <= status < 500:
            error, outcome = f"HTTP {status}", "rejected"
        elif not 200 <= status < 300:
            error, outcome = f"HTTP {status}", "failed"
    except TargetRefused as refused:
        error, outcome = f"target refused: {refused}", "rejected"
    except TimeoutError as failure:
        error, outcome = f"{type(failure).__name__}: {failure}", "timeout"
    except (OSError, http.client.HTTPException) as failure:
        error, outcome = f"{type(failure).__name__}: {failure}", "failed"
    record_webhook_delivery(outcome, time.monotonic() - started)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.status_code = status
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.error = error[:500]
    if not error:
        delivery.state = WebhookDelivery.DELIVERED
        delivery.delivered_at = timezone.now()
        with log_context(event_ids=[str(delivery.event_id)], correlation_id=_correlation_of(body)):
            logger.info("webhook delivery %s to endpoint %s: HTTP %s", delivery.event_id, endpoint.pk, status)
        return True
    if now - delivery.first_queued_at >= timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS):
        delivery.state = WebhookDelivery.FAILED  # parked: the order's later events may flow again
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
    with log_context(event_ids=[str(delivery.event_id)], correlation_id=_correlation_of(body)):
        logger.info("webhook delivery %s to endpoint %s failed: %s", delivery.event_id, endpoint.pk, delivery.error)
    return False


def _correlation_of(body: bytes) -> str | None:
    """The correlation id inside the public event (logged again by every delivery, ADR 0024)."""
    try:
        return json.loads(body).get("correlation_id")
    except ValueError:
        return None


_OUTCOME_FIELDS = [
    "state", "attempts", "last_attempt_at", "delivered_at", "next_attempt_at", "status_code", "duration_ms", "error",
]  # fmt: skip
_OUTCOME_COLUMNS = [WebhookDelivery._meta.get_field(name).column for name in _OUTCOME_FIELDS]


def deliver_due(limit: int = CLAIM_LIMIT, *, pool: ConnectionPool | None = None) -> int:
    """Attempt up to ``limit`` due stream heads in one transaction; return how many were attempted.

    ``pool`` is the calling thread's kept-alive connections; without one, this round's are closed at its end.
    """
    if pool is None:
        pool = ConnectionPool()
        try:
            return deliver_due(limit, pool=pool)
        finally:
            pool.close()
    using = read_alias()
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            if on_postgresql(using):
                # The POSTs run while the transaction idles: at most a round plus one slow POST.
                idle = ROUND_SECONDS + int(settings.WEBHOOK_TIMEOUT_SECONDS) * 3 + 5
                cursor.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{idle}s'")
                cursor.execute(_CLAIM + " FOR UPDATE OF d SKIP LOCKED", [timezone.now(), limit])
            else:
                cursor.execute(_CLAIM, [timezone.now(), limit])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        deliveries = list(WebhookDelivery.objects.using(using).filter(id__in=ids).order_by("id"))
        endpoints = {
            e.pk: e for e in WebhookEndpoint.objects.using(using).filter(id__in={d.endpoint_id for d in deliveries})
        }
        outcomes: dict[int, bool] = {}
        attempted: list[WebhookDelivery] = []
        deadline = time.monotonic() + ROUND_SECONDS
        for delivery in deliveries:
            if attempted and time.monotonic() > deadline:
                break  # the rest stay pending as they were, for the next round
            delivered = attempt(delivery, endpoints[delivery.endpoint_id], pool)
            outcomes[delivery.endpoint_id] = outcomes.get(delivery.endpoint_id, False) or delivered
            attempted.append(delivery)
        with connections[using].cursor() as cursor:  # one statement, not an ORM CASE per field and row
            bulk_set(
                cursor,
                WebhookDelivery._meta.db_table,
                "id",
                _OUTCOME_COLUMNS,
                [[d.pk, *(getattr(d, name) for name in _OUTCOME_FIELDS)] for d in attempted],
            )
        for endpoint_id, any_delivered in outcomes.items():
            _record_health(endpoints[endpoint_id], any_delivered, using=using)
    return len(attempted)


def _record_health(endpoint: WebhookEndpoint, delivered: bool, *, using: str) -> None:
    """Track how long an endpoint has failed; disable it after ``WEBHOOK_RETRY_FOR_SECONDS``."""
    now = timezone.now()
    endpoints = WebhookEndpoint.objects.using(using).filter(pk=endpoint.pk)
    if delivered:
        if endpoint.failing_since is not None:
            endpoints.update(failing_since=None)
        return
    if endpoint.failing_since is None:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    elif now - endpoint.failing_since >= timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS):
        since = f"{endpoint.failing_since:%Y-%m-%d %H:%M}"
        reason = f"disabled at {now:%Y-%m-%d %H:%M} UTC: every delivery failed since {since} UTC"
        if endpoints.filter(enabled=True).update(enabled=False, disabled_reason=reason):
            record_webhook_endpoint_disabled()
        logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)


class DeliveryWorker:
    """Drain the ``webhooks`` relay and deliver, with ``threads`` delivery threads, until stopped."""

    def __init__(self, *, threads: int, poll_seconds: float = 0.05, drain_relay: bool = True) -> None:
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.drain_relay = drain_relay
        self.stop = threading.Event()
        self._work = threading.Condition()

    def run(self) -> None:
        workers = [
            threading.Thread(target=self._deliver_loop, name=f"webhook-{n}", daemon=True) for n in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        try:
            while not self.stop.is_set():
                queued = drain("webhooks") if self.drain_relay else 0
                if queued:
                    with self._work:
                        self._work.notify_all()
                self.stop.wait(self.poll_seconds)
        finally:
            self.stop.set()
            with self._work:
                self._work.notify_all()
            for worker in workers:
                worker.join(timeout=ROUND_SECONDS + settings.WEBHOOK_TIMEOUT_SECONDS * 3)
            connections.close_all()

    def _deliver_loop(self) -> None:
        pool = ConnectionPool()  # this thread's kept-alive connections
        try:
            while not self.stop.is_set():
                try:
                    attempted = deliver_due(pool=pool)
                except Exception:  # a lost database connection: log, pause, go on (nothing was recorded)
                    logger.exception("webhook delivery round failed")
                    connections.close_all()
                    pool.close()
                    attempted = 0
                    self.stop.wait(1)
                if not attempted:
                    with self._work:
                        self._work.wait(timeout=0.25)
        finally:
            pool.close()
            connections.close_all()
