"""Reads: "the 20 most recent orders of a customer" from order_summary vs the join over the write tables.

Run against the million-order shop loaded by ``bench/seed_log.py``, on the PostgreSQL server of
``DATABASE_URL`` (``bench/stack.py``)::

    .venv/bin/python -m bench.seed_log bench_reads --orders 1000000 --lifecycle placed
    .venv/bin/python -m bench.reads bench_reads

What it does, holding the machine-wide bench lock:

1. drains the projections to the head if they are behind (timed: a second throughput figure on a
   million orders) and runs ``ANALYZE`` (autovacuum may be off);
2. **in the database**: the read side's query is the SQL Django generates for
   ``orders_read.queries.orders.customer_recent_orders`` (one indexed range scan of
   ``order_summary``); the baseline is the equivalent join a normalised model needs to show the
   same columns (orders ⋈ customers ⋈ lines ⋈ products, grouped per order for item and line
   counts and the last item, newest 20). Both run as prepared statements on one psycopg
   connection, interleaved, ``--repeat`` times each for a *typical* customer (a different one,
   drawn at random, each time: about 50 orders each) and for the *heavy* customer (the one with
   the most orders, ≥ 1,000); wall time per query from send to last row, in this process, after
   one warm-up pass over every customer (a running shop's working set is in memory). Then the
   read's execution time inside PostgreSQL (``EXPLAIN (ANALYZE, TIMING OFF)``), without the
   round trip. PostgreSQL's default ``shared_buffers`` (128 MB) holds less than order_summary
   and its indexes (about 340 MB here); the run prints the setting (docs/benchmarks.md used 1 GB);
3. **over HTTP**: ``GET /api/customers/{id}/orders/?limit=20`` with a token against gunicorn
   (DEBUG off), the same customers, sequential requests on one keep-alive connection; and,
   interleaved with it on a second connection to the same gunicorn, the *baseline*: a plain
   Django view running the same selector and returning ``JsonResponse``, no authentication
   (``bench/baseline_urls.py``, served only under ``bench.baseline_settings``);
4. prints p50 / p99 / max for each, the join / read ratio and the API / baseline ratio. Targets:
   read p99 ≤ 1 ms in the database, the read ≥ 10x faster than the join for the heavy customer
   (p50 and p99), and the API's p50 ≤ 2x the baseline's (ADR 0023). Exit 1 when one is missed,
   unless ``--ignore-targets`` (a tiny smoke run: the figures are printed, the answers still
   checked).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from http.client import HTTPConnection
from urllib.parse import urlsplit

import psycopg

from bench import stack

SEED_COMMAND = ".venv/bin/python -m bench.seed_log {database} --orders 1000000 --lifecycle placed"
TARGET_P99_MS = 1.0
TARGET_RATIO = 10.0
TARGET_API_OVER_BASELINE = 2.0

# The same columns from the normalised write model.
JOIN_SQL = """
    SELECT o.id, o.customer_id, c.name, o.status, o.currency, o.subtotal, o.discount, o.total,
           SUM(l.quantity) AS item_count, COUNT(l.id) AS line_count,
           (ARRAY_AGG(p.name ORDER BY l.id DESC))[1] AS last_item, o.tracking_number, o.version,
           o.placed_at, o.updated_at
    FROM orders_write_order o
    JOIN orders_write_customer c ON c.id = o.customer_id
    JOIN orders_write_orderline l ON l.order_id = o.id
    JOIN orders_write_product p ON p.id = l.product_id
    WHERE o.customer_id = %s
    GROUP BY o.id, c.name
    ORDER BY o.placed_at DESC, o.id DESC
    LIMIT 20
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", nargs="?", default="bench_reads")
    parser.add_argument("--repeat", type=int, default=2000, help="queries per variant (default 2000)")
    parser.add_argument("--http-repeat", type=int, default=1000)
    parser.add_argument("--ignore-targets", action="store_true", help="print the figures, exit 0 (smoke runs)")
    args = parser.parse_args()
    url = stack.require_database(args.database, made_by=SEED_COMMAND.format(database=args.database))
    env = stack.stack_env(url)
    with stack.bench_lock():
        caught_up = _catch_up(env, url)
        read_sql = _read_sql(env)
        with psycopg.connect(url, autocommit=True) as connection:
            heavy, heavy_orders, typical = _customers(connection)
            results = _in_database(connection, read_sql, heavy, typical, args.repeat)
        token = stack.api_token(env)
        web, base = stack.start_web({**env, "DJANGO_SETTINGS_MODULE": "bench.baseline_settings"}, workers=2, threads=1)
        try:
            results.update(_over_http(base, token, heavy, typical, args.http_repeat))
        finally:
            web.stop()
        shared_buffers = _setting(url, "shared_buffers")
    _report(results, heavy, heavy_orders, f"{caught_up}; shared_buffers {shared_buffers}", args)


def _setting(url: str, name: str) -> str:
    with psycopg.connect(url) as connection:
        return connection.execute(f"SHOW {name}").fetchone()[0]


def _catch_up(env: dict[str, str], url: str) -> str:
    started = time.perf_counter()
    output = stack.manage(env, "drain_projections").strip()
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")  # what autovacuum would have done by now (it is off here)
    return f"drain_projections: {output.replace(chr(10), '; ')} in {seconds:.0f} s"


def _read_sql(env: dict[str, str]) -> str:
    """The SQL Django sends for ``customer_recent_orders(customer_id=…, limit=20)`` (asked of the ORM)."""
    code = (
        "from orders_read.models import OrderSummary; from orders_read.queries.orders import ORDER_FIELDS, "
        "NEWEST_FIRST; qs = OrderSummary.objects.filter(customer_id=1).order_by(*NEWEST_FIRST)"
        ".values(*ORDER_FIELDS)[:20]; print(qs.query.sql_with_params()[0])"
    )
    return stack.manage(env, "shell", "--no-imports", "-c", code).strip().splitlines()[-1]


def _customers(connection: psycopg.Connection) -> tuple[int, int, list[int]]:
    heavy, count = connection.execute(
        "SELECT customer_id, COUNT(*) FROM order_summary GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    typical = [row[0] for row in connection.execute(
        "SELECT customer_id FROM customer_stats WHERE order_count BETWEEN 20 AND 100 ORDER BY customer_id"
    )]  # fmt: skip
    if not typical or count < 20:
        raise SystemExit("the shop needs a customer with 20 or more orders and some with 20 to 100 (see --orders)")
    return heavy, count, typical


def _in_database(connection: psycopg.Connection, read_sql: str, heavy: int, typical: list[int], repeat: int) -> dict:
    rng = random.Random(1)
    samples = {key: [] for key in ("db read typical", "db join typical", "db read heavy", "db join heavy")}
    for customer_id in [heavy, *typical]:  # a warm server: every customer's rows once, both statements prepared
        for sql in (read_sql, JOIN_SQL):
            connection.execute(sql, [customer_id], prepare=True).fetchall()
    for _ in range(repeat):
        customer = rng.choice(typical)
        for kind, sql in (("read", read_sql), ("join", JOIN_SQL)):
            for who, customer_id in (("typical", customer), ("heavy", heavy)):
                started = time.perf_counter()
                rows = connection.execute(sql, [customer_id], prepare=True).fetchall()
                samples[f"db {kind} {who}"].append(time.perf_counter() - started)
                assert len(rows) == 20 or who == "typical", (kind, who, len(rows))
    for _ in range(repeat // 4):  # the server's own execution time, without the client round trip
        for who, customer_id in (("typical", rng.choice(typical)), ("heavy", heavy)):
            plan = connection.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + read_sql, [customer_id])
            samples.setdefault(f"db read {who} (server execution)", []).append(
                plan.fetchone()[0][0]["Execution Time"] / 1000
            )
    return samples


def _over_http(base: str, token: str, heavy: int, typical: list[int], repeat: int) -> dict:
    rng = random.Random(2)
    parts = urlsplit(base)
    api, bare = (HTTPConnection(parts.hostname, parts.port, timeout=10) for _ in range(2))
    headers = {"Authorization": f"Token {token}"}
    samples = {f"http {kind} {who}": [] for kind in ("read", "baseline") for who in ("typical", "heavy")}
    for n in range(repeat + 20):
        for who, customer_id in (("typical", rng.choice(typical)), ("heavy", heavy)):
            for kind, connection, path, sent in (
                ("read", api, f"/api/customers/{customer_id}/orders/?limit=20", headers),
                ("baseline", bare, f"/bench/baseline/customers/{customer_id}/orders/", {}),
            ):
                started = time.perf_counter()
                connection.request("GET", path, headers=sent)
                response = connection.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
                assert response.status == 200, (kind, response.status, body[:300])
                if n >= 20:  # the first requests warm each worker
                    samples[f"http {kind} {who}"].append(elapsed)
    return samples


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _report(results: dict, heavy: int, heavy_orders: int, caught_up: str, args: argparse.Namespace) -> None:
    print(f"\n{caught_up}")
    print(f"heavy customer {heavy} has {heavy_orders:,} orders; typical customers have 20 to 100\n")
    print("| query | n | p50 ms | p99 ms | max ms | mean ms |")
    print("|---|---|---|---|---|---|")
    stats = {}
    for name, samples in results.items():
        ms = [s * 1000 for s in samples]
        stats[name] = (_percentile(ms, 0.5), _percentile(ms, 0.99))
        print(f"| {name} | {len(ms):,} | {stats[name][0]:.3f} | {stats[name][1]:.3f} | {max(ms):.3f} | "
              f"{statistics.fmean(ms):.3f} |")  # fmt: skip
    print()
    failures = []
    for who in ("typical", "heavy"):
        p50 = stats[f"db join {who}"][0] / stats[f"db read {who}"][0]
        p99 = stats[f"db join {who}"][1] / stats[f"db read {who}"][1]
        print(f"join / read, {who} customer: {p50:.1f}x at p50, {p99:.1f}x at p99")
        if who == "heavy" and min(p50, p99) < TARGET_RATIO:
            failures.append(f"heavy-customer speed-up below {TARGET_RATIO:.0f}x")
    for who in ("typical", "heavy"):  # what the API adds to the same selector under the same gunicorn
        over = stats[f"http read {who}"][0] / stats[f"http baseline {who}"][0]
        print(f"API / baseline, {who} customer: {over:.2f}x at p50 "
              f"({stats[f'http read {who}'][0]:.3f} ms / {stats[f'http baseline {who}'][0]:.3f} ms)")  # fmt: skip
        if over > TARGET_API_OVER_BASELINE:
            failures.append(f"API p50 above {TARGET_API_OVER_BASELINE:.0f}x the baseline for the {who} customer")
    for who in ("typical", "heavy"):  # "in the database": PostgreSQL's own execution time
        if stats[f"db read {who} (server execution)"][1] > TARGET_P99_MS:
            failures.append(f"read p99 in the database for the {who} customer above {TARGET_P99_MS} ms")
    ignored = " (ignored: --ignore-targets)" if failures and args.ignore_targets else ""
    print("targets: " + ("met" if not failures else "MISSED: " + "; ".join(failures)) + ignored)
    sys.exit(1 if failures and not args.ignore_targets else 0)


if __name__ == "__main__":
    main()
