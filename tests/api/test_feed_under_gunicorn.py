"""Acceptance: long-polls of the event feed under a real gunicorn, one worker, started as deployed.

gunicorn runs as a subprocess from the project directory, so it reads ``gunicorn.conf.py`` (its
worker class and threads, and the hook that tells the API how many threads the worker has), on
the test database (committed data: a transactional test). Four long-polls (two users, two each)
wait on the one worker: ``/health/live`` still answers, one more long-poll is refused (the
process's cap), both while the four still wait, and one commit answers all four promptly.

The worker's ``/metrics`` says how many long-polls wait (``orders_waits_in_progress``), so the
test knows when all four do rather than sleeping on it; "at once" is asserted as an order of
events (answered while the four still wait), which a busy machine cannot upset. Latencies on a
quiet machine are in ADR 0028.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from api.tokens import api_token_issue
from bench import stack
from config.rights import VIEW_EVENTS
from orders_write.services import LineInput, order_place
from tests.api.conftest import make_user, until
from tests.observability.scraping import samples, value

LONG_POLL_SECONDS = 25  # the longest wait the feed allows
# A commit wakes the long-polls at the next check, about a tick (20 ms) later; the bound only
# catches long-polls that sleep out their wait (25 s) instead, and holds on a loaded machine.
PROMPTLY = 5.0


@pytest.fixture
def web(transactional_db):
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT']}/{settings['NAME']}"
    port = stack.free_port()
    args = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--access-logfile", "/dev/null"]  # fmt: skip
    child = stack.Child(f"feed-test-{port}", args, stack.stack_env(url)).start()
    try:
        stack.wait_for_http(port, "/health/live", child=child)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stop()


def get(url: str, token: str | None = None, timeout: float = 30) -> tuple[int, dict, float]:
    """Return the status, the JSON body (or ``{}``) and the seconds the answer took."""
    headers = {"Connection": "close"} | ({"Authorization": f"Token {token}"} if token else {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            status, body, retry_after = response.status, response.read(), None
    except urllib.error.HTTPError as error:
        status, body, retry_after = error.code, error.read(), error.headers.get("Retry-After")
    except TimeoutError:  # no answer in time: status 0, so the assertion names the seconds
        status, body, retry_after = 0, b"", None
    answer = json.loads(body) if body.startswith(b"{") else {}
    return status, answer | ({"Retry-After": retry_after} if retry_after else {}), time.monotonic() - started


def long_polls_waiting(web: str) -> float:
    with urllib.request.urlopen(f"{web}/metrics", timeout=30) as response:
        return value(samples(response.read().decode()), "orders_waits_in_progress", kind="long-poll")


def test_health_answers_and_a_commit_wakes_every_long_poll_while_a_worker_holds_its_cap(web, customer, sku):
    first, second, third = (api_token_issue(user=make_user(VIEW_EVENTS))[1] for _ in range(3))
    status, page, _ = get(f"{web}/api/events/?limit=500", first)
    assert status == 200
    end = page["next"]
    while page["results"]:
        _, page, _ = get(end, first)
        end = page["next"]
    answers: dict[int, tuple[int, dict, float]] = {}

    def long_poll(number: int, token: str) -> None:
        answers[number] = (*get(f"{end}&wait={LONG_POLL_SECONDS}", token)[:2], time.monotonic())

    waiters = [threading.Thread(target=long_poll, args=(n, (first, second)[n % 2])) for n in range(4)]
    for thread in waiters:
        thread.start()
    until(lambda: long_polls_waiting(web) == 4, timeout=60)
    # A health check or a refusal that had to wait for a thread would come back only once a
    # long-poll ended (25 s): status 0 at the timeout, or the four no longer all waiting.
    live, _, _ = get(f"{web}/health/live", timeout=LONG_POLL_SECONDS - 5)
    refused, refusal, _ = get(f"{end}&wait={LONG_POLL_SECONDS}", third, timeout=LONG_POLL_SECONDS - 5)
    still_waiting = (sum(thread.is_alive() for thread in waiters), long_polls_waiting(web))
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    committed = time.monotonic()
    for thread in waiters:
        thread.join(timeout=LONG_POLL_SECONDS * 2)

    assert live == 200, "/health/live answered while the four waited"
    assert refused == 429, f"{refused}: refused while the four waited"
    assert refusal["error"]["code"] == "throttled" and refusal["Retry-After"] == "1"
    assert still_waiting == (4, 4), "the four waited until the commit"
    assert sorted(answers) == [0, 1, 2, 3]
    for number, (status, page, at) in sorted(answers.items()):
        assert status == 200
        assert [e["aggregate_id"] for e in page["results"] if e["type"] == "OrderPlaced"] == [order_id]
        assert at - committed < PROMPTLY, f"long-poll {number} answered {at - committed:.2f} s after the commit"
