"""CPU time the observability hooks add to one API command, measured apart from the database.

One command (no database needed beyond settings; no bench lock: it measures CPU time, not wall
time, so a loaded machine slows it less)::

    .venv/bin/python -m bench.observability_cost [--calls 20000] [--repeats 3] [--database bench_writes]

Per variant, a fresh process runs ``--calls`` times what a placement through the API adds:
the middleware's log context and request metrics, the command's observation (count, histogram,
log line with its event id) and the outbox's event note. ``off``: metrics in process memory,
logs at WARNING in text (what every process pays now, whatever the settings); ``on``: metrics
in ``PROMETHEUS_MULTIPROC_DIR`` files and JSON log lines at INFO written to ``/dev/null`` (the
production configuration). The variants alternate ``--repeats`` times; the table gives the CPU
microseconds per command (``time.process_time``), best and median.

With ``--database NAME`` (an existing database with customers and products, e.g. the one
``bench.writes`` leaves), each variant also times the CPU of 400 real ``order_place`` calls on
it (after 50 warm-up calls, no nudge), to set the hooks' cost against a command's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from bench import stack


def measure(calls: int) -> float:
    import logging
    import time
    import uuid

    import django

    django.setup()
    for handler in logging.getLogger().handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the process)
    from observability.context import log_context, note_events
    from observability.instruments import record_request
    from orders_write.services._observed import observed_command

    class Result:
        aggregate_id, version, position = 1, 1, 5

    request_id = str(uuid.uuid4())
    started = time.process_time()
    for _ in range(calls):
        with log_context(request_id=request_id, correlation_id=request_id):
            with observed_command("order_place", {"customer_id": 1}) as observation:
                note_events([uuid.uuid4()], uuid.uuid4())
                observation.result = Result
            record_request("api:order-list", "POST", 201, 0.003)
    return (time.process_time() - started) / calls * 1e6


def measure_command(calls: int = 400) -> float:
    """CPU µs of one real ``order_place`` (two lines) on the database of ``DATABASE_URL``."""
    import logging
    import time
    import uuid

    import django

    django.setup()
    for handler in logging.getLogger().handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the process)
    from django.db import connection

    from orders_write.outbox import correlated
    from orders_write.services import LineInput, order_place

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM orders_write_customer ORDER BY id LIMIT 1")
        (customer,) = cursor.fetchone()
        cursor.execute("SELECT sku FROM orders_write_product ORDER BY sku LIMIT 2")
        lines = [LineInput(sku=sku, quantity=1) for (sku,) in cursor.fetchall()]
    for _ in range(50):
        with correlated(uuid.uuid4()):
            order_place(customer_id=customer, lines=lines)
    started = time.process_time()
    for _ in range(calls):
        with correlated(uuid.uuid4()):
            order_place(customer_id=customer, lines=lines)
    return (time.process_time() - started) / calls * 1e6


def run_variant(variant: str, calls: int, database: str | None = None) -> float:
    if database:
        env = stack.stack_env(stack.database_url(database), OUTBOX_NUDGE="bench.metrics.no_nudge")
    else:
        env = stack.stack_env("sqlite:///:memory:")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if variant == "on":
        env.update(
            PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="orders-cost-"), LOG_FORMAT="json", LOG_LEVEL="INFO"
        )
    else:
        env.update(LOG_FORMAT="text", LOG_LEVEL="WARNING")
    output = subprocess.run(
        [sys.executable, "-m", "bench.observability_cost", "--command-child" if database else "--child", str(calls)],
        cwd=stack.ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(output.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database", help="also time real order_place calls on this database")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--command-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(measure(args.child))
        return 0
    if args.command_child:
        print(measure_command(args.command_child))
        return 0
    results: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(args.repeats):
        for variant in ("off", "on"):
            results[variant].append(run_variant(variant, args.calls))
    print("| variant | CPU µs per command, best | median | runs |")
    print("|---|---:|---:|---|")
    for variant, figures in results.items():
        runs = ", ".join(f"{f:.1f}" for f in figures)
        print(f"| {variant} | {min(figures):.1f} | {statistics.median(figures):.1f} | {runs} |")
    added = min(results["on"]) - min(results["off"])
    print(f"\nAdded by metrics in files and JSON logs at INFO: {added:.1f} CPU µs per command (best against best).")
    if args.database:
        commands: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(args.repeats):
            for variant in ("off", "on"):
                commands[variant].append(run_variant(variant, 400, args.database))
        print("\n| variant | order_place CPU µs, each run |\n|---|---|")
        for variant, figures in commands.items():
            print(f"| {variant} | {', '.join(f'{f:.0f}' for f in figures)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
