"""Time placing an order through the domain service against a plain CRUD write of the same rows.

One command (the PostgreSQL server of ``DATABASE_URL``, see ``bench/stack.py``; holds the
machine-wide bench lock)::

    .venv/bin/python -m bench.writes [--orders 300] [--rounds 6] [--seconds 4] [--throughput-rounds 2]

What it compares, per order, in worker processes with production-like settings (``DEBUG`` off):

* **service** ``orders_write.services.order_place(customer_id=…, lines=[1-3 skus], actor=user)``
  inside ``correlated(uuid4())``, exactly as the REST view calls it (no idempotency key): validation,
  customer and product look-ups, order and line rows, the ``OrderPlaced`` outbox row, one
  transaction, then the real after-commit nudge ``projections.tasks.nudge``. Two variants: the
  default shared cache (Django's database cache, table ``shared_cache``) and ``REDIS_URL`` set
  (Redis cache and django-q2's Redis broker: the scale-out configuration; a Redis database index of
  its own so other runs on this machine never see its keys). No qcluster runs, so nothing clears the
  nudge's pending mark: once per debounce window (5 s; 30 s before 2026-12-01) a nudge finds it
  expired and enqueues a drain (into ``django_q_ormq``, or the Redis list) — that is part of the
  service's real cost and is in the figures.
* **crud** the baseline a CRUD app would run: in one ``transaction.atomic()`` fetch the customer
  and the products (full rows, as ``Model.objects.get``/``filter`` do), check they are active,
  insert the order (``RETURNING id``, as ``Order.objects.create``) and its lines in one multi-row
  statement (as ``OrderLine.objects.bulk_create``) with the same values. No outbox, no nudge, no
  write guard. It is SQL on Django's connection, not the write-side models: a benchmark changes
  the write side only through the services, the API or raw SQL in its own database (the
  import-linter contracts in ``pyproject.toml``). So the baseline pays the round trips and the
  transaction of a CRUD app but not the ORM's compile and model instances; the service inserts
  its rows with raw statements too (ADR 0014), so the ratio is what the service adds on top:
  validation, the outbox row and the nudge.

How: two worker processes per configuration (``--worker``; Django set up inside them) take JSON
commands on stdin. Latency: ``--rounds`` rounds of ``--orders`` orders per variant, the variants'
order alternating every round (ABC, CBA, …) so machine noise hits all of them equally, and the
rounds alternating between the variant's two workers, so neither process's own speed decides a
ratio; the ratio is service / crud of the same run. Throughput: ``--seconds`` per variant with
1 and then 2 concurrent writer processes (2 cores: the database shares them), also alternated.

Checks afterwards (exit 1 when one fails): every service order has exactly one ``OrderPlaced``
outbox event and crud orders none; every order has lines; the order count matches what the
workers reported. Exit 1 as well when the default configuration's service is over ``--target``
(1.3) times the baseline by mean or p50, unless ``--ignore-targets`` (a tiny smoke run, whose
ratios are noise). The workers log to ``var/bench-logs/writes-*.log``.

``--observability`` adds two variants interleaved with the others, each in a worker pair of its
own started alike (same seeds): the default service without, and with, JSON logs at INFO and
metrics in a multiprocess directory, as production runs (ADR 0024). Their ratio, the
observability overhead, comes from a phase of their own after the others: ``--pair-blocks``
blocks of ``--pair-orders`` orders, ABBA-ordered (in the five-variant rotation a variant's
predecessor and slot differ, which moved even an A/A ratio as much as the effect; figures in
docs/benchmarks.md). ``--aa`` starts the "on" pair without observability too: the harness's own
bias, to read the ratio against. ``--observed-env NAME=VALUE`` (repeatable) adds to the "on"
pair's environment only: ``LOG_FLUSH_MS=0`` compares a write per line, and with ``--aa``,
``LOG_FORMAT=json LOG_LEVEL=INFO`` or ``PROMETHEUS_MULTIPROC_DIR=...`` measures one part alone.

Other modes::

    .venv/bin/python -m bench.writes --profile [--orders 2000]   # cProfile of the service in a worker,
                                                                 # and where each variant's time goes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import stack

DATABASE = "bench_writes"
REDIS_DB_URL = "redis://127.0.0.1:6379/11"  # a Redis database of this bench's own
BENCH_USER = "bench"
# With ``--observability``: the default service in workers that log JSON at INFO and keep their metrics
# in a multiprocess directory, and in a pair of workers set up alike without them: a worker that also
# runs the crud variant is not a fair "off" (docs/benchmarks.md, "Observability overhead").
OBSERVED = "service+observability"
UNOBSERVED = "service+own workers"
SEED = 20261123
# Every column, as ``Model.objects.get``/``filter`` read them; the crud baseline indexes the rows by position.
CUSTOMER_COLUMNS = "id, name, email, is_active, version, created_at, updated_at"
PRODUCT_COLUMNS = "id, sku, name, price, is_active, version, created_at, updated_at"

# ---------------------------------------------------------------------------------------------
# Django side: runs only in child processes (``--seed``, ``--worker``, ``--check``).
# ---------------------------------------------------------------------------------------------


def _django_setup() -> None:
    import django

    django.setup()


def seed(customers: int, products: int) -> None:
    """Register customers and add products through the services (the outbox sees them too)."""
    _django_setup()
    from orders_write.services import customer_register, product_add

    for number in range(customers):
        customer_register(name=f"Bench Customer {number}", email=f"customer{number}@bench.example")
    for number in range(products):
        product_add(sku=f"BENCH-{number:04d}", name=f"Bench product {number}", price=199 + 37 * number)


class Placer:
    """Place orders the two ways, with the same pseudo-random customers and lines."""

    def __init__(self, seed: int) -> None:
        import random

        from django.contrib.auth import get_user_model
        from django.db import connection

        self.actor = get_user_model()._default_manager.get_by_natural_key(BENCH_USER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM orders_write_customer ORDER BY id")
            self.customers = [customer_id for (customer_id,) in cursor.fetchall()]
            cursor.execute("SELECT sku FROM orders_write_product ORDER BY sku")
            self.skus = [sku for (sku,) in cursor.fetchall()]
        self.random = random.Random(seed)

    def next_order(self) -> tuple[int, list[tuple[str, int]]]:
        skus = self.random.sample(self.skus, self.random.randint(1, 3))
        return self.random.choice(self.customers), [(sku, self.random.randint(1, 5)) for sku in skus]

    def service(self, customer_id: int, lines: list[tuple[str, int]]) -> int:
        """What ``OrderPlaceApi.post`` does once its serializer has passed."""
        import uuid

        from orders_write import services
        from orders_write.outbox import correlated

        with correlated(uuid.uuid4()):
            result = services.order_place(
                customer_id=customer_id,
                lines=[services.LineInput(sku=sku, quantity=quantity) for sku, quantity in lines],
                actor=self.actor,
            )
        return result.order_id

    def crud(self, customer_id: int, lines: list[tuple[str, int]]) -> int:
        """The same order and lines as a CRUD app writes them: no events, no outbox, no nudge.

        The statements an ORM CRUD app sends (full rows read, the order inserted ``RETURNING id``,
        its lines in one multi-row insert), written as SQL on Django's connection. Table names are
        quoted as the ORM quotes them, so ``--profile`` labels both variants' statements alike.
        """
        from django.conf import settings
        from django.db import connection, transaction
        from django.utils import timezone

        skus = [sku for sku, _ in lines]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SELECT {CUSTOMER_COLUMNS} FROM "orders_write_customer" WHERE id = %s', [customer_id])
            customer = cursor.fetchone()
            cursor.execute(f'SELECT {PRODUCT_COLUMNS} FROM "orders_write_product" WHERE sku = ANY(%s)', [skus])
            products = {row[1]: row for row in cursor.fetchall()}  # sku -> (id, sku, name, price, is_active, …)
            if customer is None or not customer[3] or len(products) != len(lines):
                raise ValueError("unknown or inactive customer, or unknown product")
            if not all(product[4] for product in products.values()):
                raise ValueError("inactive product")
            now = timezone.now()
            subtotal = sum(products[sku][3] * quantity for sku, quantity in lines)
            items = sum(quantity for _, quantity in lines)
            cursor.execute(
                'INSERT INTO "orders_write_order" (customer_id, status, currency, subtotal, discount, discount_percent,'
                " total, item_count, tracking_number, cancel_reason, version, placed_at, updated_at)"
                " VALUES (%s, 'PENDING', %s, %s, 0, NULL, %s, %s, '', '', 1, %s, %s) RETURNING id",
                [customer_id, settings.SHOP_CURRENCY, subtotal, subtotal, items, now, now],
            )
            (order_id,) = cursor.fetchone()
            line_rows = [
                (order_id, products[sku][0], sku, products[sku][2], quantity, products[sku][3],
                 products[sku][3] * quantity)
                for sku, quantity in lines
            ]  # fmt: skip
            cursor.execute(
                'INSERT INTO "orders_write_orderline" (order_id, product_id, sku, product_name, quantity, unit_price,'
                " line_total) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(line_rows)) + " RETURNING id",
                [value for row in line_rows for value in row],
            )
        return order_id

    def run(self, variant: str, *, orders: int = 0, seconds: float = 0.0) -> dict:
        """Place ``orders`` orders (or as many as fit in ``seconds``); return count, elapsed and per-order ms."""
        place = self.crud if variant == "crud" else self.service
        times: list[float] = []
        started = time.perf_counter()
        deadline = started + seconds
        while (len(times) < orders) if orders else (time.perf_counter() < deadline):
            customer_id, lines = self.next_order()
            before = time.perf_counter_ns()
            place(customer_id, lines)
            times.append((time.perf_counter_ns() - before) / 1e6)
        return {"variant": variant, "n": len(times), "elapsed": time.perf_counter() - started, "ms": times}


def worker(seed: int) -> None:
    """Serve JSON commands from stdin, one result line (``RESULT {...}``) each, until stdin closes."""
    _django_setup()
    placer = Placer(seed)
    if os.environ.get("REDIS_URL"):
        _forget_pending_mark()
    print("READY", flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["action"] == "run":
            result = placer.run(command["variant"], orders=command.get("orders", 0), seconds=command.get("seconds", 0))
        elif command["action"] == "profile":
            result = profile(placer, command["orders"])
        else:
            raise SystemExit(f"unknown command {command!r}")
        print("RESULT " + json.dumps(result), flush=True)
    if os.environ.get("REDIS_URL"):
        _forget_pending_mark()


def _forget_pending_mark() -> None:
    """Leave this bench's Redis database as found: no pending mark, no queued drains."""
    from django.core.cache import cache
    from django_q.brokers import get_broker

    from projections.tasks import PENDING_KEY

    cache.delete(PENDING_KEY)
    get_broker().purge_queue()


def profile(placer: Placer, orders: int) -> dict:
    """Return where each variant's time per order goes, and cProfile's top functions of the service.

    The breakdown wraps every SQL statement (``execute_wrapper``; the first one of a transaction
    includes psycopg's implicit ``BEGIN``) and the commit; what is left is Python.
    """
    import cProfile
    import io
    import pstats
    from collections import defaultdict

    from django.db import connection

    spent: dict[str, dict[str, float]] = {variant: defaultdict(float) for variant in ("crud", "service")}
    current: list[str] = ["crud"]

    def record(execute, sql, params, many, context):
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = sql.split()
            table = next((w for w in words[1:] if w.startswith('"')), "").split(".")[0]
            spent[current[0]][f"{words[0]} {table}"] += (time.perf_counter() - before) * 1000

    def timed(name: str, method):
        def run(*args, **kwargs):
            before = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[current[0]][name] += (time.perf_counter() - before) * 1000

        return run

    connection.ensure_connection()
    connection._commit = timed("COMMIT", connection._commit)
    connection._rollback = timed("ROLLBACK", connection._rollback)
    with connection.execute_wrapper(record):
        for chunk in range(8):
            for variant in ("crud", "service") if chunk % 2 == 0 else ("service", "crud"):
                current[0] = variant
                spent[variant]["(total)"] += sum(placer.run(variant, orders=orders // 8)["ms"])
    placed = (orders // 8) * 4
    breakdown = {}
    for variant, parts in spent.items():
        per_order = {name: ms / placed for name, ms in parts.items()}
        per_order["(python and the rest)"] = per_order["(total)"] - sum(
            ms for name, ms in per_order.items() if name != "(total)"
        )
        breakdown[variant] = per_order
    profiler = cProfile.Profile()
    profiler.enable()
    placer.run("service", orders=orders // 4)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
    return {"breakdown": breakdown, "profile": text.getvalue()}


def check(expected: dict[str, int]) -> None:
    """Print the invariants the run must keep, as JSON."""
    _django_setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_write_order")
        orders = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(DISTINCT aggregate_id) FROM outbox_event"
            " WHERE aggregate_type = 'order' AND event_type = 'OrderPlaced'"
        )
        placed_events, placed_orders = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM orders_write_order o WHERE NOT EXISTS"
            " (SELECT 1 FROM orders_write_orderline l WHERE l.order_id = o.id)"
        )
        without_lines = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM django_q_ormq")
        queued_drains = cursor.fetchone()[0]
    problems = []
    if orders != expected["service"] + expected["crud"]:
        problems.append(f"{orders} orders in the table, workers reported {expected['service'] + expected['crud']}")
    if placed_events != placed_orders or placed_events != expected["service"]:
        problems.append(f"{placed_events} OrderPlaced events for {placed_orders} orders, {expected['service']} placed")
    if without_lines:
        problems.append(f"{without_lines} orders without lines")
    print(
        json.dumps(
            {"orders": orders, "placed_events": placed_events, "queued_drains": queued_drains, "problems": problems}
        )
    )


# ---------------------------------------------------------------------------------------------
# Harness side: standard library, psycopg and bench.stack only.
# ---------------------------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path

    @classmethod
    def start(cls, name: str, env: dict[str, str], seed: int) -> Worker:
        log_path = stack.log_file(f"writes-{name}")
        with log_path.open("a") as log:  # the worker keeps its own copy of the descriptor
            process = subprocess.Popen(
                [stack.PYTHON, "-m", "bench.writes", "--worker", "--seed", str(seed)],
                cwd=stack.ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
        worker = cls(name, process, log_path)
        worker.expect("READY")
        return worker

    def expect(self, prefix: str) -> str:
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"worker {self.name} exited (see {self.log_path})")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()

    def send(self, **command: object) -> None:
        self.process.stdin.write(json.dumps({"action": "run", **command}) + "\n")
        self.process.stdin.flush()

    def result(self) -> dict:
        return json.loads(self.expect("RESULT "))

    def call(self, **command: object) -> dict:
        self.send(**command)
        return self.result()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_django(env: dict[str, str], *args: str) -> str:
    command = [stack.PYTHON, "-m", "bench.writes", *args]
    result = subprocess.run(command, cwd=stack.ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"bench.writes {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare(args: argparse.Namespace) -> dict[str, str]:
    """A fresh, migrated, seeded and analysed database; return the workers' environment."""
    url = stack.create_database(args.database)
    env = stack.stack_env(url)
    stack.migrate(env)
    stack.api_token(env, BENCH_USER)
    run_django(env, "--seed-data", str(args.customers), str(args.products))
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")  # autovacuum is off on this server
    return env


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def latency(workers: dict[str, list[Worker]], args: argparse.Namespace) -> dict[str, list[float]]:
    """Per-order ms of each variant, rounds alternating the variants' order."""
    samples: dict[str, list[float]] = {variant: [] for variant in workers}
    for round_number in range(args.rounds):
        order = tuple(workers) if round_number % 2 == 0 else tuple(reversed(workers))
        for variant in order:
            worker = workers[variant][round_number % len(workers[variant])]  # each process half the rounds
            samples[variant] += worker.call(variant=_mode(variant), orders=args.orders)["ms"]
    return samples


def throughput(workers: dict[str, list[Worker]], args: argparse.Namespace) -> dict[tuple[str, int], list[float]]:
    """Orders/s of each variant with 1 and 2 concurrent writer processes, per round."""
    rates: dict[tuple[str, int], list[float]] = {}
    for round_number in range(args.throughput_rounds):
        order = tuple(workers) if round_number % 2 == 0 else tuple(reversed(workers))
        for writers in (1, 2):
            for variant in order:
                chosen = workers[variant][:writers]
                for worker in chosen:
                    worker.send(variant=_mode(variant), seconds=args.seconds)
                results = [worker.result() for worker in chosen]
                rates.setdefault((variant, writers), []).append(sum(r["n"] / r["elapsed"] for r in results))
                for result in results:
                    args.placed[_mode(variant)] += result["n"]
    return rates


def pair_latency(workers: dict[str, list[Worker]], args: argparse.Namespace) -> dict[str, list[float]]:
    """Per-order ms of the observability pairs alone: blocks of ``--pair-orders``, ABBA-ordered.

    Each variant follows itself as often as the other, and each block pair moves to the pairs'
    other worker, so neither what ran before nor one process's own speed decides the ratio.
    """
    samples: dict[str, list[float]] = {UNOBSERVED: [], OBSERVED: []}
    for block in range(args.pair_blocks):
        for variant in (UNOBSERVED, OBSERVED) if block % 2 == 0 else (OBSERVED, UNOBSERVED):
            worker = workers[variant][block // 2 % len(workers[variant])]
            samples[variant] += worker.call(variant="service", orders=args.pair_orders)["ms"]
    return samples


def block_ratio(on: list[float], off: list[float], size: int) -> float:
    """The median over blocks of on's p50 / off's p50 in the same block (run back to back).

    Each ratio compares orders placed within a second of each other, so a burst of machine noise
    moves one ratio, not the pooled p50 of a whole variant.
    """
    blocks = range(0, len(on), size)
    return statistics.median(statistics.median(on[i : i + size]) / statistics.median(off[i : i + size]) for i in blocks)


def _mode(variant: str) -> str:
    return "crud" if variant == "crud" else "service"


def report(
    samples: dict[str, list[float]],
    rates: dict[tuple[str, int], list[float]],
    pairs: dict[str, list[float]] | None,
    args: argparse.Namespace,
) -> bool:
    """Print the Markdown tables; return whether the default configuration meets the target."""
    base_mean, base_p50 = statistics.fmean(samples["crud"]), statistics.median(samples["crud"])
    print(f"\n### Writes: {args.rounds} rounds x {args.orders} orders per variant (latency), ABAB-interleaved\n")
    print("| variant | orders | p50 ms | mean ms | p95 ms | ratio (mean) | ratio (p50) | target ≤ |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    met = True
    for variant in samples:
        values = samples[variant]
        mean, p50 = statistics.fmean(values), statistics.median(values)
        ratio_mean, ratio_p50 = mean / base_mean, p50 / base_p50
        verdict = "baseline"
        if variant != "crud":
            ok = ratio_mean <= args.target and ratio_p50 <= args.target
            verdict = f"{args.target}x {'met' if ok else 'MISSED'}"
            if variant == "service":
                met = ok
        print(
            f"| {_label(variant)} | {len(values)} | {p50:.2f} | {mean:.2f} | {percentile(values, 0.95):.2f} "
            f"| {ratio_mean:.2f}x | {ratio_p50:.2f}x | {verdict} |"
        )
    print(f"\n### Orders/s, {args.seconds:g} s per measurement, median of {args.throughput_rounds} rounds\n")
    print("| variant | 1 writer | 2 writers | 2 writers vs crud |")
    print("|---|---:|---:|---:|")
    base_two = statistics.median(rates[("crud", 2)])
    for variant in samples:
        one, two = statistics.median(rates[(variant, 1)]), statistics.median(rates[(variant, 2)])
        print(f"| {_label(variant)} | {one:.0f} | {two:.0f} | {two / base_two:.2f} |")
    if pairs:
        on, off = pairs[OBSERVED], pairs[UNOBSERVED]
        rate = {n: statistics.median(rates[(OBSERVED, n)]) / statistics.median(rates[(UNOBSERVED, n)]) for n in (1, 2)}
        added = " ".join(f"{name}={value}" for name, value in args.observed_env.items())
        check = {
            (True, False): " (A/A: both pairs without observability)",
            (True, True): f" (the on pair without observability but {added})",
            (False, True): f" (the on pair with {added})",
        }.get((args.aa, bool(added)), "")
        print(
            f"\nObservability on / off{check}, {len(on)} orders each in ABBA blocks of {args.pair_orders}: time per "
            f"order mean {statistics.fmean(on) / statistics.fmean(off):.3f}x, p50 "
            f"{statistics.median(on) / statistics.median(off):.3f}x (p50 {statistics.median(off):.2f} → "
            f"{statistics.median(on):.2f} ms), median of the {len(on) // args.pair_orders} blocks' p50 ratios "
            f"{block_ratio(on, off, args.pair_orders):.3f}x; orders/s 1 writer {rate[1]:.3f}x, 2 writers {rate[2]:.3f}x"
        )
    return met


def _label(variant: str) -> str:
    return {
        "crud": "crud baseline (SQL, no outbox)",
        "service": "order_place, DB cache (default)",
        "service+redis": "order_place, REDIS_URL set",
        OBSERVED: "order_place, JSON logs at INFO + multiprocess metrics",
        UNOBSERVED: "order_place, workers of its own, logs at WARNING, metrics in memory",
    }[variant]


def start_workers(
    env: dict[str, str], observability: bool, aa: bool = False, observed_env: dict[str, str] | None = None
) -> dict[str, list[Worker]]:
    redis_env = {**env, "REDIS_URL": REDIS_DB_URL}
    default = [Worker.start(f"db{i}", env, SEED + i) for i in range(2)]
    redis = [Worker.start(f"redis{i}", redis_env, SEED + 10 + i) for i in range(2)]
    workers = {"crud": default, "service": default, "service+redis": redis}
    if observability:
        on_env = {**env, **({} if aa else stack.observability_env()), **(observed_env or {})}
        workers[UNOBSERVED] = [Worker.start(f"unobserved{i}", env, SEED + 20 + i) for i in range(2)]
        workers[OBSERVED] = [Worker.start(f"observed{i}", on_env, SEED + 20 + i) for i in range(2)]
    return workers


def warm_up(workers: dict[str, list[Worker]], args: argparse.Namespace) -> None:
    for worker in {id(w): w for group in workers.values() for w in group}.values():
        for mode in ("crud", "service"):
            args.placed[mode] += worker.call(variant=mode, orders=args.warmup)["n"]


def measure(args: argparse.Namespace) -> int:
    args.placed = {"crud": 0, "service": 0}
    with stack.bench_lock():
        env = prepare(args)
        workers = start_workers(env, args.observability, args.aa, args.observed_env)
        try:
            warm_up(workers, args)
            samples = latency(workers, args)
            for variant, values in samples.items():
                args.placed[_mode(variant)] += len(values)
            rates = throughput(workers, args)
            pairs = pair_latency(workers, args) if args.observability else None
            if pairs:
                args.placed["service"] += sum(len(values) for values in pairs.values())
        finally:
            for group in workers.values():
                for worker in group:
                    worker.close()
        checked = json.loads(run_django(env, "--check", json.dumps(args.placed)))
    met = report(samples, rates, pairs, args)
    print(
        f"\nChecks: {checked['orders']} orders, {checked['placed_events']} OrderPlaced events for the "
        f"service's {args.placed['service']}; drains the nudges queued in django_q_ormq (no qcluster ran): "
        f"{checked['queued_drains']}."
    )
    for problem in checked["problems"]:
        print(f"INVARIANT FAILED: {problem}")
    if not met:
        ignored = " (ignored: --ignore-targets)" if args.ignore_targets else ""
        print(f"TARGET MISSED: order_place (default configuration) over {args.target}x the CRUD baseline{ignored}")
    return 0 if (met or args.ignore_targets) and not checked["problems"] else 1


def profile_mode(args: argparse.Namespace) -> int:
    with stack.bench_lock():
        env = prepare(args)
        workers = {"default": Worker.start("profile", env, SEED)}
        if args.redis:
            workers["redis"] = Worker.start("profile-redis", {**env, "REDIS_URL": REDIS_DB_URL}, SEED)
        try:
            results = {}
            for name, worker in workers.items():
                worker.call(variant="service", orders=200)
                worker.call(variant="crud", orders=200)
                worker.process.stdin.write(json.dumps({"action": "profile", "orders": args.orders}) + "\n")
                worker.process.stdin.flush()
                results[name] = worker.result()
        finally:
            for worker in workers.values():
                worker.close()
    for name, result in results.items():
        print(f"\n### Where the time per order goes ({name} cache; ms per order, {args.orders // 2} orders each)\n")
        names = sorted({*result["breakdown"]["crud"], *result["breakdown"]["service"]})
        print("| part | crud | service |\n|---|---:|---:|")
        for part in names:
            crud, service = (result["breakdown"][v].get(part, 0.0) for v in ("crud", "service"))
            print(f"| {part} | {crud:.3f} | {service:.3f} |")
        print(f"\ncProfile of {args.orders // 4} service orders ({name} cache), by own time:\n")
        print(result["profile"])
    return 0


def _assignment(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per variant per latency round")
    parser.add_argument("--rounds", type=int, default=6, help="latency rounds (variants alternate)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per throughput measurement")
    parser.add_argument("--throughput-rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=100, help="orders per mode per worker before measuring")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--target", type=float, default=1.3, help="max service / crud time per order")
    parser.add_argument("--ignore-targets", action="store_true", help="exit 1 only when a check fails (smoke runs)")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument(
        "--observability", action="store_true", help=f"add the {OBSERVED} variant (JSON logs, multiprocess metrics)"
    )
    parser.add_argument("--pair-blocks", type=int, default=60, help="with --observability: blocks per pair")
    parser.add_argument("--pair-orders", type=int, default=50, help="with --observability: orders per block")
    parser.add_argument("--aa", action="store_true", help="with --observability: start both pairs without it")
    parser.add_argument(
        "--observed-env", type=_assignment, action="append", default=[], metavar="NAME=VALUE",
        help="with --observability: more environment for the 'on' pair only (repeatable)",
    )  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="profile the service instead of measuring")
    parser.add_argument("--redis", action="store_true", help="with --profile: also profile with REDIS_URL set")
    # Child modes (Django inside).
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--seed-data", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--check", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.observed_env = dict(args.observed_env)
    if args.worker:
        worker(args.seed)
        return 0
    if args.seed_data:
        seed(*args.seed_data)
        return 0
    if args.check:
        check(json.loads(args.check))
        return 0
    if args.profile:
        return profile_mode(args)
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
