"""Measure projection lag under sustained API load: commit to visible in ``order_summary``.

One command (it takes the machine-wide bench lock; databases on the PostgreSQL server of
``DATABASE_URL``, see ``bench/stack.py``)::

    .venv/bin/python -m bench.lag [--rate 200] [--duration 60] [--redis] [--poison] [--no-throttle] [--direct N]
                                  [--verify-on LOG_DB] [--customers 200] [--products 50]

It builds a fresh database (``lag_orm`` or ``lag_redis``), migrates, makes ``--users`` API users
(32: one per client thread, as a shop's many clerks and integrations; with one user every
command rewrites the same throttle row of the database cache), seeds a catalogue through the
API, starts gunicorn and ONE real ``qcluster`` (one worker process), and places orders
open-loop at ``--rate`` for ``--duration`` seconds (``bench/load.py``). ``--redis`` uses the
Redis broker and cache; ``--no-throttle`` sets ``COMMAND_THROTTLE_RATE=off``; ``--direct N``
places the orders from N writer processes calling the service instead of through HTTP
(``bench/direct_load.py``: the projections' lag at rates the API cannot serve on two cores);
``--verify-on LOG_DB`` starts from a copy of a drained log (a million events from
``bench/seed_log.py``) and runs ``verify_projections`` beside the load, which must pass and must
not push the lag past the target (property 12). A poller
thread on its own psycopg connection reads ``order_summary`` every few milliseconds and stamps
when each order first appears. Lag is measured two ways:

* from ``updated_at`` (the event's ``occurred_at``, stamped by the service just before its
  commit): a lower bound of the commit time, so this lag is an upper bound (conservative);
* from the client's acknowledgement (an upper bound of the commit time; may be negative when
  the drain beats the HTTP answer home).

The poll interval bounds the measurement error and is reported. ``--poison`` inserts, a third
into the run, an outbox event the projections cannot apply (a version hole: v3 right after v1,
which every projection handling ``OrderConfirmed`` refuses with ``ProjectionGapError``) for one
acknowledged, already visible order; the drill then checks that exactly that order's stream is
parked in each projection handling the event, the rest keeps flowing within the lag target,
every other acknowledged order is in ``order_summary`` at its acknowledged version, and that
``verify_projections`` finds nothing but the parked stream (held back, named, exit 0).

Prints Markdown tables; exits 1 when p99 lag exceeds ``--target`` (1 s), the acknowledged rate
is under 95 % of ``--rate`` (these two targets not with ``--ignore-targets``: a tiny smoke run),
an acknowledged order is missing or at another version, or the poison drill parks anything but
the poisoned stream.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import psutil
import psycopg

from bench import stack
from bench.direct_load import DirectLoad
from bench.load import Ack, Api, LoadResult, OrderLoad, seed_catalogue

# Each poll is a query and a Python loop on the load generator's two cores: at 2 ms the poller and
# PostgreSQL answering it took a quarter of a core. 10 ms bounds the error at about 1% of the 1 s target.
POLL_PAUSE_SECONDS = 0.010
SETTLE_SECONDS = 60  # how long after the load every acknowledged order may take to appear
POISON_EVENT = "OrderConfirmed"


# ---------------------------------------------------------------------------------------------
# Visibility: a poller on its own connection
# ---------------------------------------------------------------------------------------------


@dataclass
class Visibility:
    """When each order first appeared in ``order_summary``, and its ``updated_at`` then."""

    url: str
    seen: dict[int, tuple[float, float, int]] = field(default_factory=dict)  # id -> (visible, updated, version)
    pending: set[int] = field(default_factory=set)  # acknowledged, not seen yet
    excluded: set[int] = field(default_factory=set)
    polls: list[float] = field(default_factory=list)  # start-to-start intervals
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    high: int = 0

    def on_ack(self, ack: Ack) -> None:
        with self.lock:
            if ack.order_id not in self.seen:
                self.pending.add(ack.order_id)

    def _floor(self) -> int:
        """Read from just below the oldest acknowledged order not seen yet (ids commit out of order)."""
        with self.lock:
            waiting = self.pending - self.excluded
            return min(waiting) - 1 if waiting else self.high

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            last = time.time()
            while not self.stopping.is_set():
                rows = connection.execute(
                    "SELECT order_id, updated_at, version FROM order_summary WHERE order_id > %s", [self._floor()]
                ).fetchall()
                now = time.time()
                with self.lock:
                    for order_id, updated_at, version in rows:
                        if order_id not in self.seen:
                            self.seen[order_id] = (now, updated_at.timestamp(), version)
                            self.pending.discard(order_id)
                            self.high = max(self.high, order_id)
                self.polls.append(now - last)
                last = now
                time.sleep(POLL_PAUSE_SECONDS)

    def wait_for(self, order_ids: set[int], timeout: float) -> set[int]:
        """Wait until every one of ``order_ids`` has been seen; return those that never were."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                missing = order_ids - self.seen.keys()
            if not missing:
                return set()
            time.sleep(0.05)
        return missing


# ---------------------------------------------------------------------------------------------
# Poison: one outbox event the projections refuse
# ---------------------------------------------------------------------------------------------


def insert_poison(url: str, order_id: int) -> int:
    """Append a ``OrderConfirmed`` at v3 for an order at v1 (a hole) straight into the outbox."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT payload, aggregate_version FROM outbox_event WHERE aggregate_type = 'order' AND aggregate_id = %s "
            "ORDER BY aggregate_version DESC LIMIT 1",
            [order_id],
        ).fetchone()
        payload, version = row
        payload = {key: payload[key] for key in ORDER_EVENT_FIELDS} | {"status": "CONFIRMED"}
        position = connection.execute(
            "INSERT INTO outbox_event (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, "
            "schema_version, payload, occurred_at, correlation_id, causation_id, actor) "
            "VALUES (%s, 'order', %s, %s, %s, 1, %s, now(), %s, NULL, 'bench-poison') RETURNING position",
            [uuid.uuid4(), order_id, version + 2, POISON_EVENT, json.dumps(payload), uuid.uuid4()],
        ).fetchone()[0]
    return position


ORDER_EVENT_FIELDS = (
    "order_id", "customer_id", "placed_at", "currency", "status", "subtotal", "discount", "total", "item_count",
)  # fmt: skip


def api_users(env: dict[str, str], count: int) -> list[str]:
    """Create ``count`` more API users (superusers, as the bench user is) in one helper; return their tokens.

    A shop's orders come from many users. With one user every command rewrites the same
    throttle-history row of the database cache, which serialises the commands (docs/benchmarks.md,
    "Lag under API load").
    """
    if count <= 0:
        return []
    code = (
        "from django.contrib.auth import get_user_model; from api.tokens import api_token_issue\n"
        f"for n in range({count}):\n"
        "    user, _ = get_user_model().objects.get_or_create(username=f'lag{n}', "
        "defaults={'is_staff': True, 'is_superuser': True})\n"
        "    print('TOKEN', api_token_issue(user=user, name='bench')[1])"
    )
    return [
        line.split()[1] for line in stack.manage(env, "shell", "-c", code).splitlines() if line.startswith("TOKEN ")
    ]


def projections_handling(env: dict[str, str], event_type: str) -> set[str]:
    """Ask Django (in a helper process) which projections handle ``event_type``."""
    code = (
        "from projections.runtime.registry import consumers; "
        f"print('HANDLED BY', *sorted(n for n, p in consumers().items() if {event_type!r} in p.event_types()))"
    )
    output = stack.manage(env, "shell", "-c", code)
    return set(next(line for line in output.splitlines() if line.startswith("HANDLED BY ")).split()[2:])


def parked_streams(url: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT projection, aggregate_type, aggregate_id, state, attempts, left(error, 120) "
            "FROM projection_parked_stream ORDER BY projection"
        ).fetchall()


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))] if ordered else float("nan")


def ms_row(name: str, values: list[float]) -> str:
    p = [percentile(values, q) * 1000 for q in (50, 90, 99)]
    return f"| {name} | {len(values)} | {p[0]:.0f} | {p[1]:.0f} | {p[2]:.0f} | {max(values) * 1000:.0f} |"


@dataclass
class CpuMeter:
    """CPU seconds used by process trees (web, qcluster) and by PostgreSQL during the load."""

    roots: dict[str, int]
    start: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, float]:
        totals = {name: _tree_cpu(pid) for name, pid in self.roots.items()}
        totals["postgres (all databases)"] = sum(
            _cpu(p) for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"
        )
        totals["redis"] = sum(_cpu(p) for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server")
        totals["load generator (this process)"] = _cpu(psutil.Process())
        machine = psutil.cpu_times()
        totals["whole machine"] = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        return totals

    def begin(self) -> None:
        self.start = self._sample()

    def end(self, seconds: float) -> dict[str, float]:
        """Mean cores busy per process group over ``seconds`` (other helpers' load shows in the machine's)."""
        return {name: (used - self.start.get(name, 0)) / seconds for name, used in self._sample().items()}


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.Error:
        return 0.0


def _tree_cpu(pid: int) -> float:
    root = psutil.Process(pid)
    return _cpu(root) + sum(_cpu(child) for child in root.children(recursive=True))


def drain_tasks(url: str) -> int:
    """Drain tasks the cluster ran (django-q2 keeps the last ``save_limit`` results)."""
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT count(*) FROM django_q_task WHERE func = 'projections.tasks.drain_task'"
        ).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    poison: dict = field(default_factory=dict)

    def main(self) -> int:
        database = self.args.database or ("lag_redis" if self.args.redis else "lag_orm")
        self.url = stack.create_database(database, template=self.args.verify_on)
        throttle = {"COMMAND_THROTTLE_RATE": "off"} if self.args.no_throttle else {}
        self.env = stack.stack_env(self.url, redis=self.args.redis, **throttle)
        stack.migrate(self.env)
        if self.args.redis:
            clear_drain_mark()
        token = stack.api_token(self.env)
        tokens = [token, *api_users(self.env, self.args.users - 1)]
        web, base = stack.start_web(self.env, workers=self.args.web_workers, threads=self.args.web_threads)
        cluster = stack.start_qcluster(self.env, name=f"qcluster-{database}")
        try:
            api = Api(base, token)
            customers, skus = seed_catalogue(api, customers=self.args.customers, products=self.args.products)
            return self.measure(base, tokens, customers, skus, web, cluster)
        finally:
            cluster.stop()
            web.stop()

    def measure(self, base: str, tokens: list[str], customers: list, skus: list, web, cluster) -> int:
        visibility = Visibility(self.url)
        poller = threading.Thread(target=visibility.run, daemon=True)
        poller.start()
        if self.args.direct:
            load = DirectLoad(
                self.env, customers=customers, skus=skus, rate=self.args.rate, duration=self.args.duration,
                writers=self.args.direct,
            )  # fmt: skip
        else:
            load = OrderLoad(
                base, tokens, customers=customers, skus=skus, rate=self.args.rate, duration=self.args.duration,
                threads=self.args.client_threads,
            )  # fmt: skip
        load.on_ack = visibility.on_ack
        if self.args.poison:
            threading.Timer(self.args.duration / 3, self.poison_one, [load, visibility]).start()
        cpu = CpuMeter({"gunicorn": web.pid, "qcluster": cluster.pid})
        cpu.begin()
        checker = VerifyDuringLoad(self.env).start() if self.args.verify_on else None
        result = load.run()
        busy = cpu.end(result.duration)
        if checker:
            self.problems += checker.finish(load_ended=time.monotonic())
        acked = {ack.order_id for ack in result.acks} - visibility.excluded
        missing = visibility.wait_for(acked, SETTLE_SECONDS)
        visibility.stopping.set()
        poller.join()
        if self.args.poison:
            self.check_poison(visibility)
        self.check_versions(result, visibility, missing)
        tasks = drain_tasks(self.url)
        self.report(result, visibility, busy, tasks)
        return 1 if self.problems else 0

    def poison_one(self, load: OrderLoad, visibility: Visibility) -> None:
        with visibility.lock:
            candidates = sorted(visibility.seen)
        if not candidates:
            return  # nothing visible yet: check_poison reports the drill as not run
        order_id = candidates[len(candidates) // 2]
        with visibility.lock:
            visibility.excluded.add(order_id)
        position = insert_poison(self.url, order_id)
        self.poison = {"order_id": order_id, "position": position, "at": time.time()}
        print(f"poisoned order {order_id} at outbox position {position}", file=sys.stderr)

    def check_poison(self, visibility: Visibility) -> None:
        """Exactly the poisoned stream parks, once per projection handling the event."""
        if not self.poison:
            self.problems.append("the poison event was never inserted (no order visible a third into the run)")
            return
        expected = {(name, "order", self.poison["order_id"]) for name in projections_handling(self.env, POISON_EVENT)}
        parked = parked_streams(self.url)
        self.poison["parked"] = parked
        if {row[:3] for row in parked} != expected or len(parked) != len(expected):
            self.problems.append(f"parked streams {parked}, expected exactly {sorted(expected)}")
        verify = subprocess.run(
            [stack.PYTHON, "manage.py", "verify_projections"], cwd=stack.ROOT, env=self.env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        output = (verify.stdout + verify.stderr).strip()
        self.poison["verify"] = (verify.returncode, output)
        named = {line.split()[2] for line in output.splitlines() if line.strip().startswith("parked:")}
        if verify.returncode != 0 or "DIFFERENT" in output or named != {str(self.poison["order_id"])}:
            self.problems.append("verify_projections did not report only the parked stream (see its output)")

    def check_versions(self, result: LoadResult, visibility: Visibility, missing: set[int]) -> None:
        """Every acknowledged order (but the poisoned one) is projected at its acknowledged version."""
        if missing:
            self.problems.append(f"{len(missing)} acknowledged orders never appeared, e.g. {sorted(missing)[:5]}")
        with psycopg.connect(self.url) as connection:
            rows = dict(connection.execute("SELECT order_id, version FROM order_summary").fetchall())
        wrong = [
            a.order_id
            for a in result.acks
            if a.order_id not in visibility.excluded and rows.get(a.order_id) != a.version
        ]
        if wrong:
            self.problems.append(f"{len(wrong)} acknowledged orders not at their acknowledged version: {wrong[:5]}")
        self.found = sum(
            1 for a in result.acks if a.order_id not in visibility.excluded and rows.get(a.order_id) == a.version
        )
        if result.abandoned:
            self.problems.append(f"{result.abandoned} orders were never acknowledged")

    def report(self, result: LoadResult, visibility: Visibility, busy: dict[str, float], tasks: int) -> None:
        acks = [a for a in result.acks if a.order_id not in visibility.excluded and a.order_id in visibility.seen]
        commit_lag = [visibility.seen[a.order_id][0] - visibility.seen[a.order_id][1] for a in acks]
        ack_lag = [visibility.seen[a.order_id][0] - a.acked_at for a in acks]
        args = self.args
        config = "Redis broker + Redis cache" if args.redis else "ORM broker + database cache"
        drill = " (poison drill)" if args.poison else ""
        print(f"\n### Lag: {args.rate:g} orders/s for {args.duration:g} s, {config}{drill}\n")
        if args.direct:
            print(f"{args.direct} writer processes calling order_place (no HTTP), one qcluster (1 worker)\n")
        else:
            print(
                f"gunicorn {args.web_workers} workers x {args.web_threads} threads, one qcluster (1 worker), "
                f"{args.client_threads} client threads as {args.users} API users, "
                f"command throttle {'off' if args.no_throttle else 'on (stack rate 1000000/s)'}\n"
            )
        print("| measure | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|")
        print(ms_row("lag: commit (updated_at) → visible", commit_lag))
        print(ms_row(f"lag: {'writer' if args.direct else 'client'} ack → visible", ack_lag))
        latency = "service" if args.direct else "API"
        print(ms_row(f"{latency} latency: scheduled → ack (slip)", [a.acked_at - a.scheduled_at for a in result.acks]))
        if self.poison:
            late = [a for a in acks if a.scheduled_at > self.poison["at"]]
            print(
                ms_row(
                    "lag (commit) of orders after the poison",
                    [visibility.seen[a.order_id][0] - visibility.seen[a.order_id][1] for a in late],
                )
            )
        polls = [p * 1000 for p in visibility.polls[1:]]
        expected = len(result.acks) - len(visibility.excluded)
        rows = {
            "acknowledged orders": f"{len(result.acks)} in {result.duration:.1f} s",
            "acknowledged rate": f"{result.rate:.1f}/s (target {args.rate:g}/s)",
            "answers": ", ".join(f"{kind}: {n}" for kind, n in sorted(result.statuses.items())),
            "poll interval, start to start (bounds the error)": (
                f"mean {statistics.mean(polls):.1f} ms, p99 {percentile(polls, 99):.1f} ms, max {max(polls):.1f} ms"
            ),
            "acknowledged orders in order_summary at their version": f"{self.found} of {expected}",
            "drain tasks run": f"{tasks} ({len(result.acks) / max(tasks, 1):.1f} orders per drain)",
            "CPU, mean cores busy": ", ".join(f"{name} {cores:.2f}" for name, cores in busy.items()),
        }
        print("\n| figure | value |\n|---|---|")
        for name, value in rows.items():
            print(f"| {name} | {value} |")
        if self.poison.get("verify"):
            self.report_poison()
        missed = []
        if commit_lag and percentile(commit_lag, 99) > args.target:
            missed.append(f"p99 lag {percentile(commit_lag, 99):.3f} s > target {args.target} s")
        if result.rate < 0.95 * args.rate:
            missed.append(f"acknowledged rate {result.rate:.1f}/s < 95 % of {args.rate:g}/s")
        if args.ignore_targets:
            print("".join(f"\ntarget missed (ignored): {target}" for target in missed))
        else:
            self.problems += missed
        verdict = "OK: every check passed, targets ignored" if missed and not self.problems else "OK: every target met"
        print("\n" + ("FAILED:\n- " + "\n- ".join(self.problems) if self.problems else verdict))

    def report_poison(self) -> None:
        print(f"\n#### Poison drill: order {self.poison['order_id']} (outbox position {self.poison['position']})\n")
        print("| projection | stream | state | attempts | error |\n|---|---|---|---|---|")
        for projection, kind, aggregate_id, state, attempts, error in self.poison["parked"]:
            print(f"| {projection} | {kind} {aggregate_id} | {state} | {attempts} | {error} |")
        code, output = self.poison["verify"]
        print(f"\n`verify_projections` exit {code}:\n\n```\n{output[-3000:]}\n```")


class VerifyDuringLoad:
    """``verify_projections`` run beside the load (property 12): it must not stall the drain, and must pass."""

    def __init__(self, env: dict[str, str]) -> None:
        self.child = stack.Child("verify", [stack.PYTHON, "manage.py", "verify_projections"], env)

    def start(self) -> VerifyDuringLoad:
        self.started = time.monotonic()
        self.child.start()
        return self

    def finish(self, *, load_ended: float) -> list[str]:
        """Wait for verify; report it, and say what went wrong (it must end clean, within the load)."""
        code = self.child.process.wait(timeout=3600)
        ended = time.monotonic()
        within = ended <= load_ended
        print(f"\nverify_projections beside the load: {ended - self.started:.1f} s, exit {code}, "
              f"{'ended within' if within else 'outlasted'} the load", file=sys.stderr)  # fmt: skip
        problems = [] if code == 0 else [f"verify_projections exited {code}: {self.child.log_text()[-2000:]}"]
        return problems + ([] if within else ["verify outlasted the load: the lag figures do not cover all of it"])


def clear_drain_mark() -> None:
    """Delete a drain-pending mark a previous run may have left in the shared Redis cache.

    The key has no per-database prefix, so a stale mark would hold back this run's nudges for up
    to ``PENDING_TIMEOUT_SECONDS``. Nothing else in Redis is touched.
    """
    key = b":1:projections:drain-pending"
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as sock:
        sock.sendall(b"*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n" % (len(key), key))
        sock.recv(64)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--target", type=float, default=1.0, help="p99 lag target in seconds")
    parser.add_argument("--redis", action="store_true", help="REDIS_URL set: Redis broker and Redis cache")
    parser.add_argument("--poison", action="store_true", help="the poison-event drill during the load")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--client-threads", type=int, default=32)
    parser.add_argument("--no-throttle", action="store_true", help="COMMAND_THROTTLE_RATE=off (no cache traffic)")
    parser.add_argument("--users", type=int, default=32, help="API users the client threads act as")
    parser.add_argument(
        "--direct", type=int, default=0, metavar="N",
        help="place orders from N writer processes calling the service, not through HTTP (bench/direct_load.py)",
    )  # fmt: skip
    parser.add_argument("--database", help="default lag_orm or lag_redis")
    parser.add_argument("--customers", type=int, default=200, help="customers seeded through the API")
    parser.add_argument("--products", type=int, default=50, help="products seeded through the API")
    parser.add_argument("--ignore-targets", action="store_true", help="exit 1 only when a check fails (smoke runs)")
    parser.add_argument(
        "--verify-on", metavar="LOG_DB",
        help="copy the database from LOG_DB (a drained bench/seed_log.py log) and run verify_projections "
        "beside the load; use a --duration longer than verify takes",
    )  # fmt: skip
    parser.add_argument("--lock-held", action="store_true", help="the caller holds the bench lock (flock …)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    # A SIGTERM (timeout, Ctrl-C from a wrapper) unwinds through ``finally`` so the children stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.lock_held:
        return Run(args).main()
    with stack.bench_lock():
        return Run(args).main()


if __name__ == "__main__":
    sys.exit(main())
