"""Rebuild: every projection replayed from a log of about 1,000,000 events into fresh tables.

Run against the log loaded by ``bench/seed_log.py``, on the PostgreSQL server of ``DATABASE_URL``
(``bench/stack.py``)::

    .venv/bin/python -m bench.seed_log bench_log --orders 250000 --lifecycle full
    .venv/bin/python -m bench.rebuild bench_log

Holding the machine-wide bench lock, it runs ``manage.py rebuild_projections`` (every projection,
one after the other: shadow tables, replay from position 0, ANALYZE, catch up and swap) as a child
and samples the child's resident memory every 0.2 s with psutil. It prints the wall time per
projection (from the command's own lines as they arrive) and in all, events per second, and
the memory curve (RSS at each tenth of the run, and the peak), then runs ``verify_projections``.
Target: the whole rebuild ≤ 120 s, with memory flat (no growth with the log's length). Exit 1
when verify fails or the target is missed (the target not with ``--ignore-targets``: smoke runs).

The projections are built in one pass over the log, so they all finish together. ``--each``
then rebuilds each projection alone (``rebuild_projections NAME``, one replay of the log each)
and prints its own wall time and log events/s: what one projection costs, to set beside the
others'.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import psutil
import psycopg

from bench import stack

SEED_COMMAND = ".venv/bin/python -m bench.seed_log {database} --orders 250000 --lifecycle full"
TARGET_SECONDS = 120
SAMPLE_SECONDS = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", nargs="?", default="bench_log")
    parser.add_argument("--ignore-targets", action="store_true", help="exit 1 only when verify fails (smoke runs)")
    parser.add_argument("--each", action="store_true", help="then rebuild each projection alone and time it")
    args = parser.parse_args()
    url = stack.require_database(args.database, made_by=SEED_COMMAND.format(database=args.database))
    env = stack.stack_env(url)
    with stack.bench_lock():
        with psycopg.connect(url) as connection:
            events = connection.execute("SELECT COUNT(*) FROM outbox_event").fetchone()[0]
        lines, seconds, memory = _rebuild(env)
        alone = [(name, _rebuild(env, name)[1]) for name in _projection_names(env)] if args.each else []
        verified = subprocess.run(
            [sys.executable, "manage.py", "verify_projections"], cwd=stack.ROOT, env=env, capture_output=True, text=True
        )
    _report(events, lines, seconds, memory, verified)
    if alone:
        print("\n| projection rebuilt alone | wall s | log events/s |\n|---|--:|--:|")
        for name, took in alone:
            print(f"| {name} | {took:.1f} | {events / took:,.0f} |")
    met = seconds <= TARGET_SECONDS
    sys.exit(0 if (met or args.ignore_targets) and verified.returncode == 0 else 1)


def _projection_names(env: dict[str, str]) -> list[str]:
    code = "from projections.runtime.registry import projections; print(' '.join(projections()))"
    return stack.manage(env, "shell", "--no-imports", "-c", code).split()


def _rebuild(env: dict[str, str], *names: str) -> tuple[list[tuple[float, str]], float, list[tuple[float, int]]]:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "rebuild_projections", *names, "--verbosity", "0"],
        cwd=stack.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    memory: list[tuple[float, int]] = []
    sampler = threading.Thread(target=_sample, args=(child, started, memory), daemon=True)
    sampler.start()
    lines = [(time.perf_counter() - started, line.rstrip()) for line in child.stdout]
    if child.wait() != 0:
        raise SystemExit("rebuild_projections failed:\n" + "\n".join(line for _, line in lines))
    seconds = time.perf_counter() - started
    sampler.join()
    return lines, seconds, memory


def _sample(child: subprocess.Popen, started: float, memory: list[tuple[float, int]]) -> None:
    process = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            memory.append((time.perf_counter() - started, process.memory_info().rss))
        except psutil.NoSuchProcess:
            return
        time.sleep(SAMPLE_SECONDS)


def _report(events: int, lines, seconds: float, memory, verified: subprocess.CompletedProcess) -> None:
    mib = 1024 * 1024
    print(f"\nlog: {events:,} events\n")
    print("| projection | finished at s | took s |")
    print("|---|---|---|")
    previous = 0.0
    for at, line in lines:
        print(f"| {line} | {at:.1f} | {at - previous:.1f} |")
        previous = at
    print(f"\nwhole rebuild: {seconds:.1f} s, {events / seconds:,.0f} log events/s (target ≤ {TARGET_SECONDS} s)")
    tenths = [memory[min(len(memory) - 1, len(memory) * n // 10)] for n in range(1, 11)] if memory else []
    curve = ", ".join(f"{at:.0f} s: {rss / mib:.0f}" for at, rss in tenths)
    peak = max((rss for _, rss in memory), default=0)
    print(f"RSS MiB at each tenth of the run: {curve}; peak {peak / mib:.0f} MiB")
    print(f"verify_projections: exit {verified.returncode}: {verified.stdout.strip()}")


if __name__ == "__main__":
    main()
