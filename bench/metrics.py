"""Time ``GET /metrics`` against gunicorn with ten consumers, a lagging log and a shared metrics directory.

One command (the PostgreSQL server of ``DATABASE_URL``, see ``bench/stack.py``; holds the
machine-wide bench lock)::

    .venv/bin/python -m bench.metrics [--orders 2000] [--scrapes 200] [--target 50]

What it sets up: a fresh database with ``bench.metrics_settings`` (the project's consumers
topped up with silent relays to ten), ``--orders`` orders placed through the service and each
confirmed (twice as many events; the seeding process records its commands in the shared
directory, so the recorded families have values), the projections drained and the relays left
lagging by every event (each scrape then counts real lag, every consumer's in one statement), gunicorn with
2 workers and ``PROMETHEUS_MULTIPROC_DIR``. ``--scrapes`` sequential scrapes over one keep-alive
connection with the bearer token; then everything is drained (the steady state: every consumer
caught up) and the same again. Prints p50 / p95 / max in ms per state; exit 1 when a p95 is over
``--target`` ms (unless ``--ignore-targets``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from http.client import HTTPConnection
from urllib.parse import urlsplit

from bench import stack
from bench.metrics_consumers import TOTAL_CONSUMERS

DATABASE = "bench_metrics"
TOKEN = "bench-metrics-token"
SEED_CODE = """
from orders_write.services import LineInput, customer_register, order_confirm, order_place, product_add
customer = customer_register(name="Bench", email="bench@bench.example").aggregate_id
product_add(sku="BENCH-1", name="Bench product", price=500)
for _ in range({orders}):
    placed = order_place(customer_id=customer, lines=[LineInput(sku="BENCH-1", quantity=1)])
    order_confirm(order_id=placed.order_id, expected_version=placed.version)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--target", type=float, default=50.0, help="p95 ms")
    parser.add_argument("--ignore-targets", action="store_true")
    args = parser.parse_args()
    with stack.bench_lock():
        url = stack.create_database(DATABASE)
        env = stack.stack_env(
            url,
            DJANGO_SETTINGS_MODULE="bench.metrics_settings",
            METRICS_TOKEN=TOKEN,
            PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="orders-bench-metrics-"),
            OUTBOX_NUDGE="bench.metrics.no_nudge",
        )
        stack.migrate(env)
        stack.manage(env, "shell", "-c", SEED_CODE.format(orders=args.orders))
        for projection in ("order_views", "sales"):
            stack.manage(env, "drain_projections", "--projection", projection)
        web, base = stack.start_web(env, workers=2, threads=2)
        try:
            lagging = scrape(base, args.scrapes)
            stack.manage(env, "drain_projections")  # now every consumer is caught up: the steady state
            caught_up = scrape(base, args.scrapes)
        finally:
            web.stop()
    print("| consumers | state | events in the log | scrapes | p50 ms | p95 ms | max ms | exposition bytes |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for state, (timings, body) in (("the relays lag the whole log", lagging), ("all caught up", caught_up)):
        consumers = body.count('orders_consumer_lag_events{consumer="')
        p50, p95 = statistics.median(timings), sorted(timings)[int(0.95 * len(timings)) - 1]
        figures = f"{p50:.1f} | {p95:.1f} | {max(timings):.1f}"
        print(f"| {consumers} | {state} | {2 * args.orders + 2} | {len(timings)} | {figures} | {len(body)} |")
        if consumers != TOTAL_CONSUMERS:
            print(f"expected {TOTAL_CONSUMERS} consumers in the exposition, found {consumers}", file=sys.stderr)
            return 1
        worst = max(worst, p95)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if worst > args.target and not args.ignore_targets:
        print(f"p95 {worst:.1f} ms is over the target {args.target} ms", file=sys.stderr)
        return 1
    return 0


def no_nudge() -> None:
    """The commands' after-commit nudge: nothing (this bench drains when it chooses)."""


def scrape(base: str, count: int) -> tuple[list[float], str]:
    parts = urlsplit(base)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    timings = []
    body = ""
    for number in range(count + 5):
        started = time.perf_counter()
        connection.request("GET", "/metrics", headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise SystemExit(f"/metrics answered {response.status}: {body[:500]}")
        if number >= 5:  # the first scrapes warm each worker up
            timings.append((time.perf_counter() - started) * 1000)
    return timings, body


if __name__ == "__main__":
    raise SystemExit(main())
