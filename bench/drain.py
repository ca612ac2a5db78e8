"""Projection throughput: events per second drained into every read table by one worker, vs raw upserts.

Run against a log loaded by ``bench/seed_log.py`` (about 1,000,000 events), on the PostgreSQL
server of ``DATABASE_URL`` (``bench/stack.py``)::

    .venv/bin/python -m bench.seed_log bench_log --orders 250000 --lifecycle full
    .venv/bin/python -m bench.drain bench_log

What it does, holding the machine-wide bench lock:

1. empties the read tables, checkpoints and parked streams, so the drain starts at position 0;
2. **drain**: one process runs ``projections.runtime.loop.drain_all()`` (what a worker's drain task runs:
   a thread per projection, paced to share decoded events) until every projection is at the
   head, exactly as in production: batches of
   ``DEFAULT_BATCH_SIZE``, each one transaction with its checkpoint, reading, decoding, folding and
   upserting. It records every multi-row upsert the projections send (table, columns, rows) to a
   temporary file, which costs the drain a little time, never helps it;
3. ``manage.py verify_projections``: the drained tables must equal a replay of the log;
4. **raw baseline**: replays exactly the recorded rows into empty copies of the read tables
   (``CREATE TABLE t__raw (LIKE t INCLUDING ALL)``: same columns, keys and indexes) with psycopg's
   ``executemany`` (pipelined single-row ``INSERT … ON CONFLICT … DO UPDATE``, server-side
   binding), one transaction per recorded batch: the cost of the same writes with nothing
   read, decoded or computed. The copies are dropped afterwards;
5. prints events/s for both (events = outbox rows read: each is applied to every projection that
   handles it), the ratio, CPU and peak memory. Targets: ≥ 10,000 events/s and ≥ 40% of raw.

Exit 1 when ``verify_projections`` fails or a target is missed (the targets not with
``--ignore-targets``: a tiny smoke run).

The few non-upsert statements a drain may send (deleting emptied product-day rows after a
cancellation, fanning a rename out) are not recorded, so the baseline does slightly less work.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import stack

SEED_COMMAND = ".venv/bin/python -m bench.seed_log {database} --orders 250000 --lifecycle full"
TARGET_EVENTS_PER_SECOND = 10_000
TARGET_RAW_RATIO = 0.40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", nargs="?", default="bench_log")
    parser.add_argument("--child", choices=("drain", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--capture", help=argparse.SUPPRESS)
    parser.add_argument("--ignore-targets", action="store_true", help="exit 1 only when verify fails (smoke runs)")
    args = parser.parse_args()
    if args.child:
        result = (_child_drain if args.child == "drain" else _child_raw)(Path(args.capture))
        print(json.dumps(result))
        return

    url = stack.require_database(args.database, made_by=SEED_COMMAND.format(database=args.database))
    env = stack.stack_env(url)
    with stack.bench_lock(), tempfile.TemporaryDirectory() as scratch:
        capture = Path(scratch) / "upserts.pickle"
        drained = _run_child(env, "drain", capture)
        verified = subprocess.run(
            [sys.executable, "manage.py", "verify_projections"], cwd=stack.ROOT, env=env, capture_output=True, text=True
        )
        raw = _run_child(env, "raw", capture)
    rate, raw_rate = drained["events"] / drained["seconds"], drained["events"] / raw["seconds"]
    rows = [
        ("drain (drain_all, one process)", drained, rate),
        ("raw executemany of the same rows", raw, raw_rate),
    ]
    print(f"\n{drained['events']:,} events ({drained['by_projection']}), {drained['batches']} batches, "
          f"{raw['rows']:,} rows upserted in {raw['statements']:,} multi-row statements\n")  # fmt: skip
    print("| run | wall s | events/s | CPU s (user+sys) | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, result, events_per_second in rows:
        print(f"| {name} | {result['seconds']:.1f} | {events_per_second:,.0f} | {result['cpu']:.1f} | "
              f"{result['peak_rss_mib']:.0f} |")  # fmt: skip
    ratio = rate / raw_rate
    print(f"\ndrain / raw = {ratio:.0%} (target ≥ {TARGET_RAW_RATIO:.0%}); "
          f"drain {rate:,.0f} events/s (target ≥ {TARGET_EVENTS_PER_SECOND:,})")  # fmt: skip
    print(f"verify_projections after the drain: exit {verified.returncode}\n{verified.stdout.strip()}")
    met = rate >= TARGET_EVENTS_PER_SECOND and ratio >= TARGET_RAW_RATIO
    sys.exit(0 if (met or args.ignore_targets) and verified.returncode == 0 else 1)


def _run_child(env: dict[str, str], mode: str, capture: Path) -> dict:
    command = [sys.executable, "-m", "bench.drain", "--child", mode, "--capture", str(capture)]
    result = subprocess.run(command, cwd=stack.ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def _empty_read_side() -> None:
    from django.db import connection

    from projections.runtime.registry import projections

    tables = [table for projection in projections().values() for table in projection.tables()]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}, projection_checkpoint, projection_parked_stream")


def _usage(started_cpu: float) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": usage.ru_utime + usage.ru_stime - started_cpu, "peak_rss_mib": usage.ru_maxrss / 1024}


def _child_drain(capture: Path) -> dict:
    """Drain everything from position 0, recording each multi-row upsert (one pickle record per batch)."""
    _django()
    from projections import sql
    from projections.runtime import loop as drain_module

    _empty_read_side()
    original = sql._insert_on_conflict
    recorded = threading.local()  # drain_all drains each projection in a thread of its own
    writing = threading.Lock()

    def recording(cursor, table, columns, key, updates, rows):
        recorded.batch.append((table, tuple(columns), tuple(updates), tuple(key), [tuple(row) for row in rows]))
        return original(cursor, table, columns, key, updates, rows)

    sql._insert_on_conflict = recording
    batches = 0
    by_projection: dict[str, int] = {}
    with capture.open("wb") as out:
        original_drain_batch = drain_module.drain_batch

        def drain_batch(projection, *, batch_size):
            nonlocal batches
            recorded.batch = []
            result = original_drain_batch(projection, batch_size=batch_size)
            with writing:
                if recorded.batch:
                    pickle.dump(recorded.batch, out, protocol=pickle.HIGHEST_PROTOCOL)
                batches += 1
            return result

        drain_module.drain_batch = drain_batch
        cpu = _usage(0)["cpu"]
        started = time.perf_counter()
        by_projection = drain_module.drain_all()
        seconds = time.perf_counter() - started
    return {"events": _log_size(), "by_projection": by_projection, "seconds": seconds, "batches": batches,
            **_usage(cpu)}  # fmt: skip


def _log_size() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM outbox_event")
        return cursor.fetchone()[0]


def _child_raw(capture: Path) -> dict:
    """Replay the recorded rows with psycopg ``executemany`` into ``t__raw`` copies, a transaction per batch."""
    _django()
    import psycopg

    from projections.runtime.registry import projections

    tables = [table for projection in projections().values() for table in projection.tables()]
    url = os.environ["DATABASE_URL"]  # the drained database: stack_env named it for this child
    rows = statements = 0
    cpu = _usage(0)["cpu"]
    seconds = 0.0
    with psycopg.connect(url, autocommit=True) as raw, capture.open("rb") as recorded:
        for table in tables:
            raw.execute(f"DROP TABLE IF EXISTS {table}__raw")
            raw.execute(f"CREATE TABLE {table}__raw (LIKE {table} INCLUDING ALL)")
        try:
            seconds, rows, statements = _replay(raw, recorded)
        finally:
            for table in tables:
                raw.execute(f"DROP TABLE IF EXISTS {table}__raw")
    return {"seconds": seconds, "rows": rows, "statements": statements, **_usage(cpu)}


def _replay(raw, recorded) -> tuple[float, int, int]:
    seconds, rows, statements = 0.0, 0, 0
    while True:
        try:
            batch = pickle.load(recorded)
        except EOFError:
            return seconds, rows, statements
        started = time.perf_counter()  # only the writes are timed, not unpickling
        with raw.transaction(), raw.cursor() as cursor:
            for table, columns, updates, key, values in batch:
                placeholders = ", ".join(["%s"] * len(columns))
                # The recorded SQL names the live table (``t.column + excluded.column``): point it at the copy.
                assignments = ", ".join(updates).replace(f"{table}.", f"{table}__raw.")
                cursor.executemany(
                    f"INSERT INTO {table}__raw ({', '.join(columns)}) VALUES ({placeholders}) "
                    f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments}",
                    values,
                )
                rows += len(values)
                statements += 1
        seconds += time.perf_counter() - started


if __name__ == "__main__":
    main()
