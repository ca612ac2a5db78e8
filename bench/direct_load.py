"""An open-loop order load that calls the write service directly, in writer processes: no HTTP.

``python -m bench.lag --direct N`` uses it to measure the projections' lag with HTTP taken out, at
rates the API cannot serve on a small machine (gunicorn spends several ms of CPU per placement).
Each of ``writers`` child processes
places every ``writers``-th order of one shared schedule through ``orders_write.services.order_place``
(the real outbox append and after-commit nudge, with an idempotency key, as the API calls it),
retrying a failed attempt with the same key, and prints one JSON line per acknowledgement.
The parent turns the lines into ``bench.load.Ack`` records, exactly as ``OrderLoad`` does, so
the lag poller and the checks are the same.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.load import Ack, LoadResult, random_order

ROOT = Path(__file__).resolve().parent.parent
RETRY_PAUSE_SECONDS = 0.2


class DirectLoad:
    """Place orders at ``rate`` per second for ``duration`` seconds from ``writers`` processes."""

    def __init__(
        self, env: dict[str, str], *, customers: list[int], skus: list[str], rate: float, duration: float,
        writers: int = 2, seed: int = 1,
    ) -> None:  # fmt: skip
        self.env, self.customers, self.skus = env, customers, skus
        self.rate, self.duration, self.writers, self.seed = rate, duration, writers, seed
        self.result = LoadResult()
        self._lock = threading.Lock()
        self.on_ack = None  # optional callback(Ack), called from reader threads

    def run(self) -> LoadResult:
        started = time.time() + 1.0  # time for the writers to start Django before the first order is due
        spec = {"customers": self.customers, "skus": self.skus, "rate": self.rate, "duration": self.duration,
                "writers": self.writers, "seed": self.seed, "started": started}  # fmt: skip
        command = [sys.executable, "-m", "bench.direct_load"]
        children = [
            subprocess.Popen(
                [*command, json.dumps({**spec, "writer": n})], cwd=ROOT, env=self.env, stdout=subprocess.PIPE, text=True
            )
            for n in range(self.writers)
        ]
        readers = [threading.Thread(target=self._read, args=(child,)) for child in children]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        failed = [child.wait() for child in children]
        if any(failed):
            raise RuntimeError(f"writer exit codes {failed}")
        self.result.duration = time.time() - started
        return self.result

    def _read(self, child: subprocess.Popen) -> None:
        for line in child.stdout:
            record = json.loads(line)
            if "statuses" in record:
                with self._lock:
                    self.result.statuses.update(record["statuses"])
                    self.result.abandoned += record["abandoned"]
                continue
            ack = Ack(**record)
            with self._lock:
                self.result.acks.append(ack)
            if self.on_ack is not None:
                self.on_ack(ack)


def _orders(spec: dict) -> list[tuple[float, dict]]:
    """The whole schedule of (due, body) (every writer draws the same one and takes its share)."""
    rng = random.Random(spec["seed"])
    count = int(spec["rate"] * spec["duration"])
    return [
        (spec["started"] + n / spec["rate"], random_order(rng, spec["customers"], spec["skus"])) for n in range(count)
    ]


def _writer(spec: dict) -> None:
    """Child: place this writer's share of the schedule through the service, one JSON line per ack."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.db import DatabaseError, InterfaceError

    from orders_write.outbox import correlated
    from orders_write.services import LineInput, order_place

    statuses: Counter = Counter()
    abandoned = 0
    mine = _orders(spec)[spec["writer"] :: spec["writers"]]
    for due, body in mine:
        customer_id = body["customer_id"]
        lines = [LineInput(line["sku"], line["quantity"]) for line in body["lines"]]
        if (pause := due - time.time()) > 0:
            time.sleep(pause)
        key, attempts = str(uuid.uuid4()), 0
        while True:
            attempts += 1
            try:
                with correlated(uuid.uuid4()):
                    result = order_place(customer_id=customer_id, lines=lines, idempotency_key=key)
            except (DatabaseError, InterfaceError) as error:  # PostgreSQL restarting, a dropped connection
                statuses[type(error).__name__] += 1
                if time.time() - due > 120:
                    abandoned += 1
                    break
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            statuses["placed"] += 1
            ack = Ack(order_id=result.aggregate_id, customer_id=customer_id, version=result.version,
                      position=result.position, scheduled_at=due, acked_at=time.time(), attempts=attempts)  # fmt: skip
            print(json.dumps(ack.__dict__), flush=True)
            break
    print(json.dumps({"statuses": statuses, "abandoned": abandoned}), flush=True)


if __name__ == "__main__":
    _writer(json.loads(sys.argv[1]))
