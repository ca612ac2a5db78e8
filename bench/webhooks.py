"""Webhook delivery and feed figures (ADR 0020), one command on the server of ``DATABASE_URL``::

    .venv/bin/python -m bench.webhooks [--burst 3000] [--rate 100] [--duration 60] [--threads 8]

It builds a fresh database ``bench_webhooks``, migrates, starts a receiver on 127.0.0.1 (a
``ThreadingHTTPServer`` in this process that answers 204 and stamps each arrival) and a real
``manage.py deliver_webhooks`` child, then measures:

1. throughput: ``--burst`` orders placed with the worker stopped, then the worker started;
   deliveries/s from the first arrival to the last (fan-out included);
2. latency: orders placed at ``--rate``/s for ``--duration`` s through the services (four
   placing threads); commit-to-delivered = arrival minus the event's ``occurred_at`` (stamped
   just before commit, so an upper bound);
3. the feed: ``GET /api/events/?limit=500`` served in-process (Django's test client, token
   auth), pages of 500 walked from the start: server time per page (the request until the
   response is back, the client's JSON parsing left out), after one warm-up request
   (``limit=1``) that pays the process's first imports and connection; then the same pages
   again (what a process that served them already keeps: decoded events, public bytes);
4. long-polls: ``--long-polls`` rounds of one ``GET /api/events/?wait=25`` from the feed's end,
   in-process in a thread of its own; once it waits (``api.waits.feed_waits_held``) an order is
   placed, and the figure is the time from the command's return (committed) to the long-poll's
   answer: how soon a commit wakes a waiting long-poll (the feed promises about 100 ms, ADR
   0020; one check a tick, ADR 0028). The tests assert the mechanism (the first check after
   the commit wakes it), this the time.

Orders are placed through the domain services (the benchmark contract). Prints Markdown.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import stack


def no_nudge() -> None:
    """The webhook worker drains its relay itself; no django-q2 task is wanted here."""


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[float, float]] = {}  # event id -> (arrived, occurred)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.time()
                occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
                with arrivals.lock:
                    arrivals.seen.setdefault(event["event_id"], (now, occurred))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/hooks"

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.seen) >= count:
                    return True
            time.sleep(0.05)
        return False


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_worker(env: dict[str, str], threads: int) -> subprocess.Popen:
    log = stack.log_file("webhooks-worker").open("a")
    return subprocess.Popen(
        [stack.PYTHON, "manage.py", "deliver_webhooks", "--threads", str(threads)],
        cwd=stack.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def place_at_rate(place, rate: float, duration: float, placers: int = 4) -> int:
    placed = [0] * placers

    def run(index: int) -> None:
        start = time.monotonic()
        for n in range(int(rate * duration / placers)):
            due = start + (n * placers + index) / rate
            time.sleep(max(0.0, due - time.monotonic()))
            place()
            placed[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(placers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(placed)


def walk_feed(client) -> list[float]:
    """Walk the feed from the start in pages of 500; return each page's server time in ms."""
    page_times, url = [], "/api/events/?limit=500"
    for _ in range(40):
        begun = time.perf_counter()
        response = client.get(url)
        page_times.append((time.perf_counter() - begun) * 1000)  # the server's time, not the client's parsing
        body = response.json()
        if len(body["results"]) < 500:
            break
        url = body["next"]
    return page_times


def long_poll_wakes(client, place, rounds: int) -> list[float]:
    """Return, per round, the ms from an order's commit to the answer of a long-poll waiting for it."""
    from django.db import connection
    from rest_framework.test import APIClient

    from api.waits import feed_waits_held

    def long_poll(end: str, answered: dict) -> None:
        poller = APIClient()
        poller.credentials(**client._credentials)
        answered["body"] = poller.get(end + "&wait=25").json()
        answered["at"] = time.perf_counter()
        connection.close()

    wakes = []
    for _ in range(rounds):
        url = "/api/events/?limit=500"
        while len((body := client.get(url).json())["results"]) == 500:  # a full page: read on
            url = body["next"]
        answered: dict = {}
        thread = threading.Thread(target=long_poll, args=(body["next"], answered))
        thread.start()
        deadline = time.monotonic() + 10
        while feed_waits_held() < 1:
            assert time.monotonic() < deadline, "the long-poll never waited"
            time.sleep(0.001)
        place()
        committed = time.perf_counter()
        thread.join(timeout=60)
        assert answered["body"]["results"], "the long-poll ran out its wait instead"
        wakes.append((answered["at"] - committed) * 1000)
    return wakes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--long-polls", type=int, default=50)
    args = parser.parse_args()
    with stack.bench_lock():
        url = stack.create_database("bench_webhooks")
        env = stack.stack_env(
            url, WEBHOOK_ALLOW_PRIVATE_TARGETS="true", OUTBOX_NUDGE="bench.webhooks.no_nudge",
            ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        )  # fmt: skip
        stack.migrate(env)
        os.environ.update(env)
        import django

        django.setup()
        run(env, args)


def run(env: dict[str, str], args) -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from api.tokens import api_token_issue
    from orders_write.services import LineInput, customer_register, order_place, product_add
    from webhooks.services import endpoint_create

    arrivals = Arrivals()
    server, receiver_url = arrivals.serve()
    customer = customer_register(name="Bench", email="bench@example.com").aggregate_id
    product_add(sku="BENCH-1", name="Bench widget", price=1000)

    def place() -> None:
        order_place(customer_id=customer, lines=[LineInput(sku="BENCH-1", quantity=1)])

    owner = get_user_model().objects.create_superuser("bench-webhooks", password="bench-password-123")
    endpoint_create(url=receiver_url, event_types=["OrderPlaced"], actor=owner)
    for _ in range(args.burst):
        place()
    worker = start_worker(env, args.threads)
    try:
        assert arrivals.wait_for(args.burst, timeout=600), "the burst was not delivered"
        with arrivals.lock:
            times = [arrived for arrived, _ in arrivals.seen.values()]
        burst_rate = len(times) / (max(times) - min(times))
        already = len(arrivals.seen)
        started = time.time()
        placed = place_at_rate(place, args.rate, args.duration)
        achieved = placed / (time.time() - started)
        assert arrivals.wait_for(already + placed, timeout=120), "the paced orders were not all delivered"
        with arrivals.lock:
            latencies = [arrived - occurred for arrived, occurred in arrivals.seen.values() if occurred >= started - 1]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.shutdown()

    user = get_user_model().objects.create_superuser("bench-feed", password="bench-password-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)[1]}")
    client.get("/api/events/?limit=1")  # the process's first request imports and connects: not a page's cost
    gc.freeze()  # what gunicorn.conf.py's post_worker_init does in a served worker
    page_times, again_times = walk_feed(client), walk_feed(client)
    wakes = long_poll_wakes(client, place, args.long_polls)

    print("| measure | figure |\n|---|---|")
    print(f"| burst: {args.burst} deliveries, {args.threads} threads | {burst_rate:.0f} deliveries/s |")
    print(f"| paced: {placed} orders at {achieved:.1f}/s asked {args.rate:.0f}/s for {args.duration:.0f} s | "
          f"commit-to-delivered p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms |")  # fmt: skip
    print(f"| feed: {len(page_times)} pages of 500 events | median {statistics.median(page_times):.1f} ms, "
          f"p95 {percentile(page_times, 0.95):.1f} ms |")  # fmt: skip
    print(f"| feed again: the same pages, read a second time | median {statistics.median(again_times):.1f} ms, "
          f"p95 {percentile(again_times, 0.95):.1f} ms |")  # fmt: skip
    print(f"| long-poll: commit to the answer, {len(wakes)} rounds | median {statistics.median(wakes):.1f} ms, "
          f"p95 {percentile(wakes, 0.95):.1f} ms, max {max(wakes):.1f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
