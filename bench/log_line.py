"""What the one log line per command costs inside real placements: a ``LogRecord`` or ``log_fields``.

A micro-benchmark of the line in a loop understates it several times over: after a placement's
database work the logging code and its data are no longer in the CPU's caches. So one worker
process (``LOG_FORMAT=json``, ``LOG_LEVEL=INFO``, production settings, lines written to
``var/bench-logs/log-line.log``) places orders on the database ``bench.writes`` leaves and times
the call that writes the command's line, three ways alternating every 100 placements:

- ``none``: the command's logger at WARNING, so no line (what ``LOG_LEVEL=WARNING`` costs);
- ``record``: ``logger.log(level, message, extra=fields)``, the standard library's record,
  dispatch and ``JsonFormatter`` (what an operator's own ``LOGGING`` gets);
- ``log_fields``: the shipped JSON configuration's direct path (ADR 0024).

::

    .venv/bin/python -m bench.log_line [--rounds 20]   # after a run of bench.writes

Prints the median and quartiles of the call in µs and the placements' p50 per way, against
``none``'s: one process for all three, so a process's own speed (which moves a comparison of two
worker pairs, docs/benchmarks.md) is out of the comparison, and the line's indirect cost (the
caches it evicts from the rest of the placement) is in it. Metrics are the same in all three.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from bench import stack

BLOCK = 100  # placements per variant before switching


def child(rounds: int) -> None:
    import logging
    import time

    import django

    django.setup()
    from bench.writes import SEED, Placer
    from orders_write.services import _observed

    def through_a_record(logger: logging.Logger, level: int, message: str, fields: dict) -> None:
        logger.log(level, message, extra=fields, stacklevel=2)

    ways = {"none": _observed.log_fields, "record": through_a_record, "log_fields": _observed.log_fields}
    calls: dict[str, list[float]] = {way: [] for way in ways}
    placements: dict[str, list[float]] = {way: [] for way in ways}
    log_outcome = _observed._log_outcome
    current = "record"

    def timed(*args) -> None:
        started = time.perf_counter_ns()
        log_outcome(*args)
        calls[current].append((time.perf_counter_ns() - started) / 1e3)

    _observed._log_outcome = timed
    placer = Placer(SEED + 40)
    for _ in range(BLOCK):  # warm-up, not counted
        placer.service(*placer.next_order())
    for way in ways:
        calls[way].clear()
    for round_number in range(rounds):
        for current in ways if round_number % 2 == 0 else reversed(ways):
            _observed.logger.setLevel(logging.WARNING if current == "none" else logging.NOTSET)
            _observed.log_fields = ways[current]
            for _ in range(BLOCK):
                customer_id, lines = placer.next_order()
                started = time.perf_counter_ns()
                placer.service(customer_id, lines)
                placements[current].append((time.perf_counter_ns() - started) / 1e6)
    print(json.dumps({"calls": calls, "placements": placements}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 100 placements per way")
    parser.add_argument("--database", default="bench_writes")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    url = stack.require_database(args.database, made_by="python -m bench.writes")
    env = {**stack.stack_env(url), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    stack.LOG_DIR.mkdir(parents=True, exist_ok=True)
    with stack.bench_lock(), open(stack.LOG_DIR / "log-line.log", "w") as log:
        output = subprocess.run(
            [sys.executable, "-m", "bench.log_line", "--child", str(args.rounds)],
            cwd=stack.ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True, check=True,
        )  # fmt: skip
    result = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"{args.rounds} rounds x {BLOCK} placements per way, alternating\n")
    print("| the command's line | calls | median µs | p25 | p75 | placement p50 ms | p50 vs none | mean vs none |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    placements = result["placements"]
    for way, figures in result["calls"].items():
        p25, _, p75 = statistics.quantiles(figures, n=4) if figures else ("n/a", "n/a", "n/a")
        median = statistics.median(figures) if figures else "n/a"
        p50, mean = statistics.median(placements[way]), statistics.fmean(placements[way])
        vs_p50, vs_mean = p50 / statistics.median(placements["none"]), mean / statistics.fmean(placements["none"])
        print(
            f"| {way} | {len(figures)} | {_us(median)} | {_us(p25)} | {_us(p75)} | {p50:.3f} "
            f"| {vs_p50:.3f}x | {vs_mean:.3f}x |"
        )
    return 0


def _us(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
