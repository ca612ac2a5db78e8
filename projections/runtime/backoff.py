"""The one retry policy: exponential backoff, an optional cap, jitter and a point to give up (ADR 0034).

Parked streams (``runtime.parking``), a relay whose receiver is down (``runtime.receivers``) and
webhook deliveries (``webhooks.delivery``) all retry the same way, each with its own figures:
the wait after the n-th failure in a row is ``first * 2**(n-1)``, at most ``cap``, multiplied by
a random factor in ``[1 - jitter, 1 + jitter]``; a policy gives up after ``max_attempts``
failures or once ``horizon`` seconds have passed since the first one. The shape is Axon's
``ExponentialBackOffIntervalRetryScheduler`` and Celery's ``retry_backoff``.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# The exponent stops here, so a long run of failures never overflows a float (2**1024 does);
# every policy's cap is reached long before it (ADR 0034).
_MAX_EXPONENT = 40


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """How long to wait before the next attempt, and when to stop trying.

    ``first``: seconds before the retry after the first failure. ``cap``: the longest wait
    before jitter (``None``: none). ``jitter``: the spread of the random factor, 0 for none,
    0.5 for 0.5-1.5 (retries of many failures at once do not arrive together). ``max_attempts``
    and ``horizon`` (seconds since the first failure): when to give up (``None``: never).
    """

    first: float
    cap: float | None = None
    jitter: float = 0.0
    max_attempts: int | None = None
    horizon: float | None = None

    def __post_init__(self) -> None:
        if self.first <= 0 or (self.cap is not None and self.cap <= 0):
            raise ValueError(f"backoff waits must be positive, got first={self.first} cap={self.cap}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``attempts`` failures in a row (``attempts`` >= 1)."""
        wait = self.first * 2.0 ** min(max(attempts - 1, 0), _MAX_EXPONENT)
        if self.cap is not None:
            wait = min(wait, self.cap)
        if self.jitter:
            wait *= (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return wait

    def next_attempt(self, attempts: int, now: datetime, rng: random.Random | None = None) -> datetime:
        """When to try again after ``attempts`` failures in a row, the last one at ``now``."""
        return now + timedelta(seconds=self.delay(attempts, rng))

    def gives_up(self, *, attempts: int = 0, since: datetime | None = None, now: datetime | None = None) -> bool:
        """Whether to stop after ``attempts`` failures, the first of them (or the first try) at ``since``."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        if self.horizon is not None and since is not None and now is not None:
            return now - since >= timedelta(seconds=self.horizon)
        return False
