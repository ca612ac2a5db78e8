"""Acceptance: long-polls of the event feed under a real gunicorn, one worker, started as deployed.

gunicorn runs as a subprocess from the project directory, so it reads ``gunicorn.conf.py`` (its
worker class and threads, and the hook that tells the API how many threads the worker has), on
the test database (committed data: a transactional test). Four long-polls (two users, two each)
wait on the one worker: ``/health/live`` still answers at once, one more long-poll is refused at
once (the process's cap), and one commit answers all four promptly.
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
from tests.api.conftest import make_user

LONG_POLL_SECONDS = 8


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
    time.sleep(1.0)  # all four are waiting now
    live, _, live_seconds = get(f"{web}/health/live", timeout=5)
    refused, refusal, refused_seconds = get(f"{end}&wait={LONG_POLL_SECONDS}", third, timeout=5)
    still_waiting = sum(thread.is_alive() for thread in waiters)
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    committed = time.monotonic()
    for thread in waiters:
        thread.join(timeout=LONG_POLL_SECONDS * 5)

    assert live == 200 and live_seconds < 0.5, f"/health/live took {live_seconds:.2f} s"
    assert refused == 429 and refused_seconds < 0.5, f"{refused} after {refused_seconds:.2f} s"
    assert refusal["error"]["code"] == "throttled" and refusal["Retry-After"] == "1"
    assert still_waiting == 4, "the four waited until the commit"
    assert sorted(answers) == [0, 1, 2, 3]
    for number, (status, page, at) in sorted(answers.items()):
        assert status == 200
        assert [e["aggregate_id"] for e in page["results"] if e["type"] == "OrderPlaced"] == [order_id]
        assert at - committed < 1.0, f"long-poll {number} answered {at - committed:.2f} s after the commit"
