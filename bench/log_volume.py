"""Log volume of a catch-up drain: bytes of JSON log lines per million events drained (ADR 0029).

A drain batch writes one INFO line per consumer naming the correlation ids of its events. The
loaded log (``bench/seed_log.py``) gives every event a correlation id of its own, the worst case
for that line: a catch-up batch of 2,000 events serves 2,000 requests. Run on a loaded log::

    .venv/bin/python -m bench.seed_log bench_logvol --orders 25000 --lifecycle full
    .venv/bin/python -m bench.log_volume bench_logvol

A child drains every consumer from position 0 with ``LOG_FORMAT=json`` at ``LOG_LEVEL=INFO``
(production's configuration) and its standard error goes to a file; the harness counts that
file's bytes and lines and prints them per million events read. Byte counts do not depend on
the machine's load, so it takes no benchmark lock.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import stack

SEED_COMMAND = ".venv/bin/python -m bench.seed_log {database} --orders 25000 --lifecycle full"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", nargs="?", default="bench_logvol")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child()))
        return
    url = stack.require_database(args.database, made_by=SEED_COMMAND.format(database=args.database))
    env = stack.stack_env(url, LOG_FORMAT="json", LOG_LEVEL="INFO")
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "drain.log"
        with log.open("wb") as err:
            result = subprocess.run(
                [sys.executable, "-m", "bench.log_volume", "--child"],
                cwd=stack.ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True, check=True,
            )  # fmt: skip
        drained = json.loads(result.stdout.strip().splitlines()[-1])
        lines = log.read_bytes().splitlines()
    batch_lines = [line for line in lines if b'"logger":"orders.consumer"' in line]
    events, per_million = drained["events"], 1_000_000 / drained["events"]
    total = sum(len(line) + 1 for line in lines)
    batch_bytes = sum(len(line) + 1 for line in batch_lines)
    print(f"{events:,} events drained by {len(drained['by_consumer'])} consumers ({drained['by_consumer']})")
    print("| lines | count | bytes | per million events |")
    print("|---|---|---|---|")
    print(f"| batch lines (orders.consumer) | {len(batch_lines):,} | {batch_bytes:,} | "
          f"{batch_bytes * per_million / 1e6:,.1f} MB |")  # fmt: skip
    print(f"| every line | {len(lines):,} | {total:,} | {total * per_million / 1e6:,.1f} MB |")
    longest = max((len(line) for line in batch_lines), default=0)
    print(f"longest batch line: {longest:,} bytes")


def _child() -> dict:
    from bench.drain import _django, _empty_read_side, _log_size

    _django()
    from projections.runtime.loop import drain_all

    _empty_read_side()
    by_consumer = drain_all()
    return {"events": _log_size(), "by_consumer": by_consumer}


if __name__ == "__main__":
    main()
