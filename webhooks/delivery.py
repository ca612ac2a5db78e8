"""The delivery worker: POSTs queued deliveries, in version order per (endpoint, order), retrying.

No database transaction is held across a POST (ADR 0027). A thread *claims* up to
``CLAIM_LIMIT`` due stream heads of one endpoint in a short transaction: it writes its lease
(``leased_by``, ``leased_until``) on them and commits. It then POSTs them, each under a
wall-clock deadline (``WEBHOOK_DEADLINE_SECONDS``, ``webhooks.transport``), starting none after
``ROUND_SECONDS``, and *records* the outcomes in another short transaction, in one statement,
releasing what it did not attempt. Only the *head* of a stream (the lowest pending
``aggregate_version`` of an aggregate for an endpoint) is ever claimable, and a leased head
stays pending until its outcome is recorded, so one order never has two deliveries in flight
and its events arrive in version order; a failing head holds back only its own order's later
events for that endpoint. At most ``WEBHOOK_ENDPOINT_CONCURRENCY`` claims hold leases on one
endpoint at once (claims are serialized, so the count is exact), so a slow receiver takes at
most that many threads, of every deliverer together. A deliverer killed mid-POST leaves its
leases behind; they run out after ``lease_seconds()`` and the deliveries are claimed again: at
least once, always with the same ``webhook-id`` (the event id). An outcome is recorded only
under the lease it was attempted under, so a thread that outlived its lease changes nothing.
Retries back off exponentially with jitter for ``WEBHOOK_RETRY_FOR_SECONDS`` (3 days), then the
delivery is parked as failed; an endpoint failing that long is disabled (``retry_policy``).
See ADR 0020 and ADR 0034.
"""

import http.client
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from config.databases import read_alias
from observability.context import log_context
from observability.instruments import record_webhook_delivery, record_webhook_endpoint_disabled
from projections.runtime.backoff import Backoff
from projections.runtime.loop import drain
from projections.sql import bulk_set, on_postgresql
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import replay_page
from webhooks.signing import signature_header
from webhooks.targets import TargetRefused
from webhooks.transport import ConnectionPool

logger = logging.getLogger(__name__)

CLAIM_LIMIT = 50
# A round starts no POST after this long; the rest of its claim is released for other threads.
ROUND_SECONDS = 5
# Beyond a round and the last POST's deadline, time to record before the lease runs out.
LEASE_MARGIN_SECONDS = 10
MAX_BACKOFF_SECONDS = 4 * 3600
USER_AGENT = "orders-webhooks/1"

# A claimable delivery: a due, unleased stream head. The head test is a correlated MIN, one probe
# of webhook_pending_stream per candidate whatever the statistics say; and candidates come in
# webhook_pending_due's order, so LIMIT stops the scan early (ADR 0027).
_CLAIMABLE = """
    d.state = 'pending' AND d.next_attempt_at <= %s AND (d.leased_until IS NULL OR d.leased_until <= %s)
    AND d.aggregate_version = (
        SELECT MIN(p.aggregate_version) FROM webhook_delivery p
        WHERE p.endpoint_id = d.endpoint_id AND p.aggregate_type = d.aggregate_type
          AND p.aggregate_id = d.aggregate_id AND p.state = 'pending')
"""
# The endpoint of the longest-due claimable head, among enabled endpoints below their cap.
_PICK = f"""
    SELECT d.endpoint_id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id
    WHERE e.enabled AND {_CLAIMABLE}
      AND d.endpoint_id NOT IN (
          SELECT l.endpoint_id FROM webhook_delivery l
          WHERE l.leased_by IS NOT NULL AND l.leased_until > %s
          GROUP BY l.endpoint_id HAVING COUNT(DISTINCT l.leased_by) >= %s)
    ORDER BY d.next_attempt_at
    LIMIT 1
"""
_HEADS = f"""
    SELECT d.id FROM webhook_delivery d
    WHERE d.endpoint_id = %s AND {_CLAIMABLE}
    ORDER BY d.next_attempt_at
    LIMIT %s
"""


def lease_seconds() -> float:
    """How long a claim is leased: a whole round, the last POST's deadline, and time to record."""
    return ROUND_SECONDS + settings.WEBHOOK_DEADLINE_SECONDS + LEASE_MARGIN_SECONDS


def retry_policy() -> Backoff:
    """Base * 2^(attempts-1), capped, times 0.5-1.5, for the retry horizon since first queued.

    Built per call from the settings, which tests (and a deployment's environment) set.
    """
    return Backoff(
        first=settings.WEBHOOK_RETRY_BASE_SECONDS,
        cap=MAX_BACKOFF_SECONDS,
        jitter=0.5,
        horizon=settings.WEBHOOK_RETRY_FOR_SECONDS,
    )


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
    policy = retry_policy()
    if policy.gives_up(since=delivery.first_queued_at, now=now):
        delivery.state = WebhookDelivery.FAILED  # parked: the order's later events may flow again
    else:
        delivery.next_attempt_at = policy.next_attempt(delivery.attempts, now)
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


def claim_due(limit: int = CLAIM_LIMIT) -> tuple[uuid.UUID, WebhookEndpoint, list[WebhookDelivery]] | None:
    """Lease up to ``limit`` due stream heads of one endpoint and commit; None when nothing is claimable.

    Return the lease, the endpoint and its deliveries in claim order. Claims take turns
    (a transaction-level advisory lock on PostgreSQL, the write lock on SQLite): each sees the
    leases committed before it, so the per-endpoint cap is never overshot.
    """
    using = read_alias()
    lease = uuid.uuid4()
    with transaction.atomic(using=using):
        now = timezone.now()
        with connections[using].cursor() as cursor:
            postgresql = on_postgresql(using)
            if postgresql:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('webhook_claim'))")
            cursor.execute(_PICK, [now, now, now, settings.WEBHOOK_ENDPOINT_CONCURRENCY])
            row = cursor.fetchone()
            if row is None:
                return None
            endpoint_id = row[0]
            cursor.execute(
                _HEADS + (" FOR UPDATE OF d SKIP LOCKED" if postgresql else ""), [endpoint_id, now, now, limit]
            )
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return None
        WebhookDelivery.objects.using(using).filter(id__in=ids).update(
            leased_by=lease, leased_until=now + timedelta(seconds=lease_seconds())
        )
    endpoint = WebhookEndpoint.objects.using(using).get(pk=endpoint_id)
    deliveries = list(WebhookDelivery.objects.using(using).filter(id__in=ids, leased_by=lease))
    deliveries.sort(key=lambda d: (d.next_attempt_at, d.id))
    return lease, endpoint, deliveries


def deliver_due(limit: int = CLAIM_LIMIT, *, pool: ConnectionPool | None = None) -> int:
    """Claim, POST and record one round of up to ``limit`` deliveries; return how many were attempted.

    ``pool`` is the calling thread's kept-alive connections; without one, this round's are closed at its end.
    """
    if pool is None:
        pool = ConnectionPool()
        try:
            return deliver_due(limit, pool=pool)
        finally:
            pool.close()
    claimed = claim_due(limit)
    if claimed is None:
        return 0
    lease, endpoint, deliveries = claimed
    attempted: list[WebhookDelivery] = []
    any_delivered = False
    try:
        round_ends = time.monotonic() + ROUND_SECONDS
        for delivery in deliveries:
            if attempted and time.monotonic() > round_ends:
                break  # the rest are released, for the next round of any thread
            any_delivered = attempt(delivery, endpoint, pool) or any_delivered
            attempted.append(delivery)
    finally:
        _record(lease, endpoint, attempted, any_delivered)
    return len(attempted)


def _record(lease: uuid.UUID, endpoint: WebhookEndpoint, attempted: list[WebhookDelivery], delivered: bool) -> None:
    """Write the outcomes of what is still under ``lease`` and release the rest of it, in one short transaction."""
    using = read_alias()
    with transaction.atomic(using=using):
        held = set(
            WebhookDelivery.objects.using(using)
            .select_for_update()
            .filter(leased_by=lease)
            .values_list("id", flat=True)
        )
        recorded = [d for d in attempted if d.pk in held]
        with connections[using].cursor() as cursor:  # one statement, not an ORM CASE per field and row
            bulk_set(
                cursor,
                WebhookDelivery._meta.db_table,
                "id",
                _OUTCOME_COLUMNS,
                [[d.pk, *(getattr(d, name) for name in _OUTCOME_FIELDS)] for d in recorded],
            )
        if held:
            WebhookDelivery.objects.using(using).filter(leased_by=lease).update(leased_by=None, leased_until=None)
        if recorded:
            _record_health(endpoint, delivered, using=using)
    if len(recorded) < len(attempted):
        logger.warning(
            "webhook endpoint %s: %d outcomes not recorded, their lease ran out (they will be attempted again)",
            endpoint.pk,
            len(attempted) - len(recorded),
        )


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
    elif retry_policy().gives_up(since=endpoint.failing_since, now=now):
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
                queued += self._replay_page()
                if queued:
                    with self._work:
                        self._work.notify_all()
                self.stop.wait(self.poll_seconds)
        finally:
            self.stop.set()
            with self._work:
                self._work.notify_all()
            for worker in workers:
                worker.join(timeout=lease_seconds())
            connections.close_all()

    def _replay_page(self) -> int:
        """Walk one page of a pending replay (ADR 0027); a failure is logged and the page tried again later."""
        try:
            return replay_page()
        except Exception:
            logger.exception("webhook replay page failed")
            connections.close_all()
            self.stop.wait(1)
            return 0

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
