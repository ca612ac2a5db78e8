"""A relay whose receiver is down: back off, and say so as the relay's own state (ADR 0019).

When a relay's ``apply`` raises ``ReceiverUnavailable`` (a bus that does not answer, say), no
stream is at fault: the batch is rolled back, nothing is parked, and the relay waits before it
tries again, doubling the wait after each failure up to ``MAX_BACKOFF_SECONDS`` (``BACKOFF``,
ADR 0034); it never gives up, the relay's events wait in the outbox. The record
lives in the shared cache, so every worker process backs off together and ``consumer_health``
(in the web process) reports the relay as ``receiver_unavailable`` with the receiver's error.
The first batch that goes through clears it. The events wait after the checkpoint: the relay
catches up in commit order once the receiver is back.
"""

import time
from dataclasses import asdict, dataclass

from django.core.cache import cache

from projections.runtime.backoff import Backoff

MAX_BACKOFF_SECONDS = 30.0  # the bus's duplicate window outlasts it (bus.config, ADR 0019)
# No jitter: the record is shared, so every worker process already waits for the same retry_at.
BACKOFF = Backoff(first=0.5, cap=MAX_BACKOFF_SECONDS)
RECORD_TIMEOUT_SECONDS = 3600  # a record nobody clears (the relay removed) fades away


@dataclass(frozen=True)
class ReceiverDown:
    error: str
    failures: int
    since: float  # time.time() of the first failure in a row
    retry_at: float

    def due(self) -> bool:
        return time.time() >= self.retry_at


def _key(name: str) -> str:
    return f"projections:receiver-down:{name}"


def down(name: str) -> ReceiverDown | None:
    """Return the relay's receiver-down record, or ``None`` while its receiver takes events."""
    record = cache.get(_key(name))
    return ReceiverDown(**record) if record else None


def report_down(name: str, error: Exception, previous: ReceiverDown | None) -> ReceiverDown:
    """Record one more failure in a row and when to try next (exponential backoff)."""
    failures = previous.failures + 1 if previous else 1
    now = time.time()
    record = ReceiverDown(
        error=f"{type(error).__name__}: {error}"[:2000],
        failures=failures,
        since=previous.since if previous else now,
        retry_at=now + BACKOFF.delay(failures),
    )
    cache.set(_key(name), asdict(record), timeout=RECORD_TIMEOUT_SECONDS)
    return record


def report_up(name: str) -> None:
    cache.delete(_key(name))
