"""The one retry policy (ADR 0034): doubling, cap, jitter bounds, giving up; and its three users' figures."""

import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from projections.runtime import parking, rebuild, receivers
from projections.runtime.backoff import Backoff
from webhooks.delivery import MAX_BACKOFF_SECONDS, retry_policy

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_wait_doubles_from_first():
    policy = Backoff(first=2)
    assert [policy.delay(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]


def test_the_cap_bounds_the_wait():
    policy = Backoff(first=0.5, cap=30)
    assert [policy.delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_a_long_run_of_failures_never_overflows():
    # 0.5 * 2**1024 cannot be a float: a relay down for hours once reached that (ADR 0034).
    assert Backoff(first=0.5, cap=30).delay(5000) == 30
    assert Backoff(first=0.5).delay(5000) > 0


def test_jitter_stays_within_its_bounds_and_spreads():
    policy = Backoff(first=10, cap=40, jitter=0.5)
    rng = random.Random(34)
    waits = [policy.delay(3, rng) for _ in range(1000)]
    assert all(20 <= wait <= 60 for wait in waits)
    assert min(waits) < 25 and max(waits) > 55, "the factor spreads over 0.5-1.5"
    capped = [policy.delay(10, rng) for _ in range(1000)]
    assert all(20 <= wait <= 60 for wait in capped), "the cap applies before the jitter"


def test_a_seeded_rng_gives_the_same_waits():
    policy = Backoff(first=1, jitter=0.5)
    assert [policy.delay(2, random.Random(7)) for _ in range(3)] == [policy.delay(2, random.Random(7))] * 3


def test_next_attempt_is_now_plus_the_delay():
    assert Backoff(first=2).next_attempt(3, NOW) == NOW + timedelta(seconds=8)


def test_gives_up_after_max_attempts():
    policy = Backoff(first=1, max_attempts=5)
    assert [policy.gives_up(attempts=n) for n in range(1, 7)] == [False] * 4 + [True] * 2


def test_gives_up_at_the_horizon():
    policy = Backoff(first=1, horizon=3600)
    assert not policy.gives_up(since=NOW, now=NOW + timedelta(seconds=3599))
    assert policy.gives_up(since=NOW, now=NOW + timedelta(seconds=3600))


def test_without_a_limit_it_never_gives_up():
    assert not Backoff(first=1).gives_up(attempts=10**6, since=NOW, now=NOW + timedelta(days=10**4))


@pytest.mark.parametrize(
    "figures",
    [{"first": 0}, {"first": -1}, {"first": 1, "cap": 0}, {"first": 1, "jitter": 1}, {"first": 1, "jitter": -0.1}],
)
def test_nonsense_figures_are_refused(figures):
    with pytest.raises(ValueError):
        Backoff(**figures)


def test_each_user_keeps_its_figures(settings):
    assert Backoff(first=2, max_attempts=parking.MAX_ATTEMPTS) == parking.BACKOFF
    assert Backoff(first=0.5, cap=receivers.MAX_BACKOFF_SECONDS) == receivers.BACKOFF
    assert [rebuild.SWAP_BACKOFF.delay(n) for n in range(1, 8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_FOR_SECONDS = 5, 3 * 24 * 3600
    assert retry_policy() == Backoff(first=5, cap=MAX_BACKOFF_SECONDS, jitter=0.5, horizon=3 * 24 * 3600)


def test_a_receiver_down_for_hours_still_backs_off():
    # About 1,000 failures in a row (8.5 hours at 30 s) once overflowed 0.5 * 2**(failures-1).
    previous = receivers.ReceiverDown(error="OSError: down", failures=2000, since=0.0, retry_at=0.0)
    try:
        record = receivers.report_down("test-backoff-relay", OSError("still down"), previous)
        assert record.failures == 2001
        assert record.retry_at - time.time() == pytest.approx(receivers.MAX_BACKOFF_SECONDS, abs=5)
    finally:
        receivers.report_up("test-backoff-relay")
