"""Fault drills: kill the worker, restart PostgreSQL, hold a transaction open, race conflicting commands.

One command runs a drill (or all of them) against the real stack (gunicorn, ``manage.py qcluster``,
PostgreSQL; with ``--scale-out`` also Redis and a second database), under the machine-wide bench
lock, and exits 1 when any check fails::

    .venv/bin/python -m bench.drills kill|nats-kill|pg-restart|long-transaction|conflicts|converge|all \\
        [--scale-out] [--duration 60] [--rate 40] [--databases drill]

Every drill starts from fresh databases on the PostgreSQL server of ``DATABASE_URL``
(``bench/stack.py``): ``drill_write``; with ``--scale-out`` also ``drill_read`` for
``READ_DATABASE_URL``, django-q2's Redis broker and TWO qclusters (``--databases PREFIX`` names
them ``PREFIX_write``, ``PREFIX_read`` and ``PREFIX_unrelated``). It places orders over HTTP at
a fixed rate (``bench/load.py``: Idempotency-Key retries make the acknowledged set exact) while a
few client threads confirm and cancel a fraction of the acknowledged orders with
``expected_version`` (cancellations move the sales sums, where double counting would show),
injects its fault, waits until every projection's lag is 0 and then checks:

1. ``manage.py verify_projections`` exits 0;
2. the acknowledged order ids are exactly ``order_summary``'s, each row at the version and status
   last acknowledged;
3. no double counting: ``daily_sales`` and ``customer_stats`` count exactly the acknowledged orders
   and cancellations, and their revenue equals the write side's;
4. the write side holds exactly the acknowledged orders, in the acknowledged state.

Drills: ``nats-kill`` is ``kill`` with the NATS relay on (a nats-server of its own, restarted once
midway) and checks the stream against the outbox, message by message; ``kill`` SIGKILLs a qcluster
(one of the two, with ``--scale-out``) at 20+ seeded random moments and restarts it, as a supervisor
would; ``pg-restart`` restarts the PostgreSQL server (``stack.restart_postgres``) with ``-m
immediate`` twice and leaves web and worker to recover alone; ``long-transaction`` holds write
transactions open for 20 s in the shop's database and in an unrelated one, which must not hold
projection back (ADR 0015); ``restore`` dumps the shop into a fresh cluster and keeps selling there
(``bench/restore_drill.py``); ``conflicts`` sends 100 simultaneous commands with the same
``expected_version`` to one order, round after round; ``converge`` is the load with no fault (for
``--scale-out``, and the shortest drill: ``converge --duration 3 --rate 10`` is a smoke run).

Standard library and psycopg only: the stack runs in child processes (``bench/stack.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPException

import psycopg

from bench import natsd, restore_drill, stack
from bench.load import Ack, Api, OrderLoad, seed_catalogue

WRITE_DB, READ_DB, UNRELATED_DB = "drill_write", "drill_read", "drill_unrelated"
DRILL_REDIS_DB = 7  # a Redis database of the drills' own: broker queue and cache marks start empty
DRAIN_TIMEOUT = 240.0  # longer than the minute sweep plus the pending mark of a lost nudge
COMMAND_GIVE_UP = 120.0
READ_TABLES = ("order_summary", "order_line_view", "daily_sales", "customer_stats", "product_sales")
WRITE_TABLES = ("orders_write_order", "outbox_event")


# ---------------------------------------------------------------------------------------------
# The ledger: what the server acknowledged, the ground truth every check compares against.
# ---------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """Per acknowledged order, the version and status the server last acknowledged."""

    orders: dict[int, tuple[int, str]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)  # acks, retries and refusals of the change commands
    max_position: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def placed(self, ack: Ack) -> None:
        self.record(ack.order_id, ack.version, "PENDING", ack.position)

    def record(self, order_id: int, version: int, status: str, position: int = 0) -> None:
        with self.lock:
            known = self.orders.get(order_id)
            if known is None or known[0] < version:
                self.orders[order_id] = (version, status)
            self.max_position = max(self.max_position, position)

    def count(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.counts[kind] += n


def send_command(api: Api, ledger: Ledger, path: str, body: dict, expected: int) -> int | None:
    """Send a versioned command until the server answers; return the new version or None if refused.

    Without an Idempotency-Key a lost answer is resolved by the version: after an attempt that got
    no answer (or a 5xx), a 409 saying the order is now at ``expected + 1`` means that attempt
    committed (nothing else changes this order), so it counts as acknowledged ("inferred").
    """
    ambiguous = False
    deadline = time.time() + COMMAND_GIVE_UP
    while time.time() < deadline:
        try:
            status, answer = api.request("POST", path, {**body, "expected_version": expected})
        except (OSError, HTTPException) as error:
            ledger.count(f"retry {type(error).__name__}")
            ambiguous = True
            time.sleep(0.2)
            continue
        if status == 200:
            return answer["version"]
        error = answer.get("error", {})
        current = error.get("details", {}).get("current_version")
        if status == 409 and error.get("code") == "version_conflict" and ambiguous and current == expected + 1:
            ledger.count("inferred ack")
            return current
        if status >= 500 or status == 429:
            ledger.count(f"retry {status}")
            ambiguous = ambiguous or status >= 500
            time.sleep(0.2)
            continue
        ledger.count(f"refused {status} {error.get('code', '')}")
        return None
    ledger.count("abandoned command")
    return None


class Changer:
    """Confirm or cancel a fraction of the acknowledged orders, as a shop's staff would."""

    def __init__(self, base_url: str, token: str, ledger: Ledger, *, seed: int, threads: int = 4) -> None:
        self.base_url, self.token, self.ledger = base_url, token, ledger
        self.random = random.Random(seed)
        self.inbox: queue.Queue[Ack | None] = queue.Queue()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]

    def start(self) -> Changer:
        for thread in self.threads:
            thread.start()
        return self

    def on_ack(self, ack: Ack) -> None:
        self.ledger.placed(ack)
        if self.random.random() < 0.4:  # confirm 25 %, cancel pending 7.5 %, confirm then cancel 7.5 %
            self.inbox.put(ack)

    def finish(self) -> None:
        for _ in self.threads:
            self.inbox.put(None)
        for thread in self.threads:
            thread.join()

    def _work(self) -> None:
        api = Api(self.base_url, self.token)
        plan = random.Random(self.random.random())
        while (ack := self.inbox.get()) is not None:
            self._change(api, ack, plan.random())

    def _change(self, api: Api, ack: Ack, dice: float) -> None:
        base, version = f"/api/orders/{ack.order_id}", ack.version
        if dice < 0.8125:
            version = self._send(api, ack.order_id, f"{base}/confirm/", {}, version, "CONFIRMED")
            if version is None or dice < 0.625:
                return
        self._send(api, ack.order_id, f"{base}/cancel/", {"reason": "drill"}, version, "CANCELLED")

    def _send(self, api: Api, order_id: int, path: str, body: dict, version: int, status: str) -> int | None:
        new_version = send_command(api, self.ledger, path, body, version)
        if new_version is not None:
            self.ledger.record(order_id, new_version, status)
            self.ledger.count(f"{status.lower()} acked")
        return new_version


# ---------------------------------------------------------------------------------------------
# The stack under test.
# ---------------------------------------------------------------------------------------------


@dataclass
class Stack:
    scale_out: bool
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. NATS_URL for the bus drill
    env: dict[str, str] = field(default_factory=dict)
    web: stack.Child | None = None
    base_url: str = ""
    token: str = ""
    workers: list[stack.Child] = field(default_factory=list)
    log_offsets: dict[str, int] = field(default_factory=dict)

    @property
    def read_db(self) -> str:
        return READ_DB if self.scale_out else WRITE_DB

    def start(self) -> Stack:
        write_url = stack.create_database(WRITE_DB)
        read_url = stack.create_database(READ_DB) if self.scale_out else None
        extra = {"REDIS_URL": f"{stack.REDIS_URL}/{DRILL_REDIS_DB}"} if self.scale_out else {}
        if self.scale_out:
            redis_command("FLUSHDB")
        self.env = stack.stack_env(write_url, read_url=read_url, redis=self.scale_out, **extra, **self.extra_env)
        stack.migrate(self.env)
        if self.extra_env.get("NATS_URL"):
            stack.manage(self.env, "nats_setup")
        self.token = stack.api_token(self.env)
        self.web, self.base_url = stack.start_web(self.env)
        for n in range(2 if self.scale_out else 1):
            self.start_worker(n)
        return self

    def start_worker(self, n: int) -> None:
        name = f"drill-q{n + 1}"
        log = stack.LOG_DIR / f"{name}.log"
        self.log_offsets.setdefault(name, log.stat().st_size if log.exists() else 0)
        worker = stack.start_qcluster(self.env, name=name)
        if n < len(self.workers):
            self.workers[n] = worker
        else:
            self.workers.append(worker)

    def stop(self) -> None:
        for child in [*self.workers, self.web]:
            if child is not None:
                child.stop()

    def drain_tasks_per_worker(self) -> dict[str, int]:
        """Drain tasks each qcluster finished during this drill, from its own log."""
        counts = {}
        for worker in self.workers:
            with worker.log_path.open(errors="replace") as log:
                log.seek(self.log_offsets[worker.name])
                counts[worker.name] = sum("Processed 'projections.tasks.drain_task'" in line for line in log)
        return counts

    def api(self) -> Api:
        return Api(self.base_url, self.token)


def redis_command(*words: str) -> str:
    """Send one command to the drills' Redis database (RESP over a socket: no client library here)."""

    def bulk(word: str) -> bytes:
        return f"${len(word.encode())}\r\n{word}\r\n".encode()

    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as sock:
        for command in (("SELECT", str(DRILL_REDIS_DB)), words):
            sock.sendall(f"*{len(command)}\r\n".encode() + b"".join(bulk(word) for word in command))
            reply = sock.recv(4096).decode()
    return reply.strip()


def sql(db: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(stack.database_url(db), autocommit=True) as connection:
        return connection.execute(query, params).fetchall()


# ---------------------------------------------------------------------------------------------
# Waiting for the drain, and the checks.
# ---------------------------------------------------------------------------------------------


def projection_lag(api: Api) -> tuple[int, float, int] | None:
    """(total lag in events, max lag in seconds, min checkpoint position), or None without an answer."""
    try:
        status, body = api.request("GET", "/api/projections/")
    except (OSError, HTTPException):
        return None
    if status != 200:
        return None
    rows = body["results"]
    if any(row["parked"] for row in rows):
        raise RuntimeError(f"a stream is parked: {[row['last_error'] for row in rows if row['parked']]}")
    return (
        sum(row["lag_events"] for row in rows),
        max(row["lag_seconds"] for row in rows),
        min(row["position"] for row in rows),
    )


def wait_drained(api: Api, *, timeout: float = DRAIN_TIMEOUT) -> float | None:
    """Poll ``/api/projections/`` until every projection's lag is 0; return when, or None on timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lag = projection_lag(api)
        if lag is not None and lag[0] == 0:
            return time.time()
        time.sleep(0.25)
    return None


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(drill: Stack, ledger: Ledger) -> list[Check]:
    return [check_verify(drill), check_read_rows(drill, ledger), *check_sums(drill, ledger), check_write(ledger)]


def check_verify(drill: Stack) -> Check:
    result = subprocess.run(
        [stack.PYTHON, "manage.py", "verify_projections"], cwd=stack.ROOT, env=drill.env,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = (result.stdout + result.stderr).strip().splitlines()
    return Check("verify_projections exits 0", result.returncode == 0, output[-1] if output else "")


def _compare(ledger: Ledger, rows: list[tuple]) -> str:
    """'' when ``rows`` (id, version, status) are exactly the ledger's orders, else what differs."""
    found = {order_id: (version, status) for order_id, version, status in rows}
    missing = sorted(set(ledger.orders) - set(found))
    extra = sorted(set(found) - set(ledger.orders))
    wrong = sorted(oid for oid in set(found) & set(ledger.orders) if found[oid] != ledger.orders[oid])
    if not (missing or extra or wrong):
        return ""
    return f"missing {missing[:5]} ({len(missing)}), extra {extra[:5]} ({len(extra)}), wrong state {wrong[:5]}"


def check_read_rows(drill: Stack, ledger: Ledger) -> Check:
    rows = sql(drill.read_db, "SELECT order_id, version, status FROM order_summary")
    problem = _compare(ledger, rows)
    return Check("order_summary = acknowledged orders, versions and statuses", not problem, problem or f"{len(rows)}")


def check_write(ledger: Ledger) -> Check:
    rows = sql(WRITE_DB, "SELECT id, version, status FROM orders_write_order")
    problem = _compare(ledger, rows)
    return Check("write side = acknowledged orders (none unacknowledged)", not problem, problem or f"{len(rows)}")


def check_sums(drill: Stack, ledger: Ledger) -> list[Check]:
    orders = len(ledger.orders)
    cancelled = sum(status == "CANCELLED" for _, status in ledger.orders.values())
    (revenue,) = sql(WRITE_DB, "SELECT COALESCE(SUM(total), 0) FROM orders_write_order WHERE status <> 'CANCELLED'")[0]
    daily = sql(
        drill.read_db,
        "SELECT COALESCE(SUM(orders), 0), COALESCE(SUM(cancellations), 0), COALESCE(SUM(revenue), 0) FROM daily_sales",
    )[0]
    customers = sql(
        drill.read_db,
        "SELECT COALESCE(SUM(order_count), 0), COALESCE(SUM(cancelled_count), 0), COALESCE(SUM(lifetime_value), 0)"
        " FROM customer_stats",
    )[0]
    daily, customers = tuple(map(int, daily)), tuple(map(int, customers))
    expected = (orders, cancelled, int(revenue))
    return [
        Check("daily_sales orders/cancellations/revenue", daily == expected, f"{daily} vs {expected}"),
        Check(
            "customer_stats orders/cancellations/value",
            customers == expected,
            f"{customers} vs {expected}",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The drills.
# ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One drill's figures and checks, printed as a Markdown table."""

    drill: str
    mode: str
    facts: dict[str, object] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def markdown(self) -> str:
        lines = [f"### {self.drill} ({self.mode})", "", "| item | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in self.facts.items()]
        lines += [f"| check: {c.name} | {'PASS' if c.ok else 'FAIL'} ({c.detail}) |" for c in self.checks]
        return "\n".join(lines) + "\n"


class LagMonitor:
    """Sample projection lag all through a drill; time the catch-up after the last fault.

    Catch-up is when every projection's checkpoint has passed the outbox head as it was when the
    last fault ended: every event committed before then is applied (lag rarely reads exactly 0
    while the load goes on, so "lag 0" would measure the load, not the recovery).
    """

    def __init__(self, api: Api) -> None:
        self.api = api
        self.max_events, self.max_seconds = 0, 0.0
        self.fault_end: tuple[float, int] | None = None
        self.caught_up: float | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> LagMonitor:
        self.thread.start()
        return self

    def stop(self, drained: float | None) -> None:
        """Stop sampling; a drain that finished between two samples is the catch-up too."""
        self.done.set()
        self.thread.join()
        if self.fault_end and self.caught_up is None and drained is not None:
            self.caught_up = drained

    def fault_ended(self) -> None:
        head = sql(WRITE_DB, "SELECT COALESCE(MAX(position), 0) FROM outbox_event")[0][0]
        self.fault_end, self.caught_up = (time.time(), head), None

    def _sample(self) -> None:
        while not self.done.wait(0.25):
            lag = projection_lag(self.api)
            if lag is None:
                continue
            self.max_events, self.max_seconds = max(self.max_events, lag[0]), max(self.max_seconds, lag[1])
            if self.fault_end and self.caught_up is None and lag[2] >= self.fault_end[1]:
                self.caught_up = time.time()

    def catch_up(self) -> str:
        if self.fault_end is None:
            return "no fault"
        if self.caught_up is None:
            return "NOT caught up"
        return f"{self.caught_up - self.fault_end[0]:.1f} s"


class Drill:
    """A drill on a fresh stack (``--scale-out`` or single), stopped whatever happens; ``_run`` does the work."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name, self.args = name, args
        self.outcome = Outcome(name, "scale-out (Redis broker, 2 qclusters, read DB)" if args.scale_out else "single")

    def stack(self) -> Stack:
        return Stack(self.args.scale_out)

    def run(self) -> Outcome:
        drill = self.stack().start()
        try:
            self._run(drill)
        finally:
            drill.stop()
        return self.outcome

    def _run(self, drill: Stack) -> None:
        raise NotImplementedError


class LoadedDrill(Drill):
    """A drill shaped as: order load + changes, a fault injected from a thread, drain, checks."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        super().__init__(name, args)
        self.ledger = Ledger()
        self.monitor: LagMonitor | None = None

    def fault(self, drill: Stack, started: float) -> None:
        """Inject the drill's fault while the load runs; call ``self.monitor.fault_ended()`` after each."""

    def _run(self, drill: Stack) -> None:
        api = drill.api()
        customers, skus = seed_catalogue(api, customers=50, products=40)
        changer = Changer(drill.base_url, drill.token, self.ledger, seed=self.args.seed).start()
        load = OrderLoad(
            drill.base_url, drill.token, customers=customers, skus=skus, rate=self.args.rate,
            duration=self.args.duration, seed=self.args.seed,
        )  # fmt: skip
        load.on_ack = changer.on_ack
        self.monitor = LagMonitor(drill.api()).start()
        started = time.time()
        injector = threading.Thread(target=self.fault, args=(drill, started), daemon=True)
        injector.start()
        result = load.run()
        changer.finish()
        injector.join()
        load_end = time.time()
        drained = wait_drained(api)
        self.monitor.stop(drained)
        facts = self.outcome.facts
        facts["orders acknowledged"] = f"{len(result.acks)} ({result.rate:.1f}/s over {result.duration:.0f} s)"
        facts["orders abandoned (never acknowledged)"] = result.abandoned
        counts = self.ledger.counts
        facts["confirm / cancel acknowledged"] = f"{counts['confirmed acked']} / {counts['cancelled acked']}"
        facts["placement answers"] = _counter(result.statuses)
        facts["change-command retries and refusals"] = _counter(self.ledger.counts, skip=("acked",)) or "none"
        facts["qcluster processes alive at the end"] = sum(worker.alive() for worker in drill.workers)
        facts["web alive at the end"] = drill.web.alive()
        if drained is None:
            facts["drained"] = f"NO: lag not 0 within {DRAIN_TIMEOUT:.0f} s"
        else:
            facts["drained after load end"] = f"{drained - load_end:.1f} s"
        facts["max projection lag during the run (events, s)"] = (
            f"{self.monitor.max_events}, {self.monitor.max_seconds:.1f}"
        )
        facts["catch-up after the last fault (checkpoints pass its head)"] = self.monitor.catch_up()
        self.outcome.checks.append(Check("drained (lag 0) in time", drained is not None, facts.get("drained", "yes")))
        self.outcome.checks += run_checks(drill, self.ledger)
        if drill.scale_out:
            self._scale_out_checks(drill)

    def _scale_out_checks(self, drill: Stack) -> None:
        tasks = drill.drain_tasks_per_worker()
        self.outcome.facts["drain tasks per qcluster"] = tasks
        self.outcome.checks.append(
            Check("both qclusters processed drain tasks", all(tasks.values()) and len(tasks) == 2, str(tasks))
        )
        in_write = [t for t in READ_TABLES if sql(WRITE_DB, "SELECT to_regclass(%s)", (t,))[0][0]]
        in_read = [t for t in READ_TABLES if sql(READ_DB, "SELECT to_regclass(%s)", (t,))[0][0]]
        write_in_read = [t for t in WRITE_TABLES if sql(READ_DB, "SELECT to_regclass(%s)", (t,))[0][0]]
        ok = not in_write and len(in_read) == len(READ_TABLES) and not write_in_read
        detail = f"read tables in write DB: {in_write or 'none'}; write tables in read DB: {write_in_read or 'none'}"
        self.outcome.checks.append(Check("read tables only in the read database", ok, detail))


def _counter(counter: Counter, skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()) if not any(s in k for s in skip))


def sleep_until(moment: float) -> None:
    if (pause := moment - time.time()) > 0:
        time.sleep(pause)


class KillDrill(LoadedDrill):
    """SIGKILL a qcluster (process group: its workers die with it) at random moments; restart it."""

    def fault(self, drill: Stack, started: float) -> None:
        rng = random.Random(self.args.seed)
        span = self.args.duration - 4
        moments = sorted(started + 2 + rng.random() * span for _ in range(self.args.kills))
        restart_times, kills = [], 0
        for moment in moments:
            sleep_until(moment)
            n = rng.randrange(len(drill.workers))
            drill.workers[n].kill()
            kills += 1
            began = time.time()
            drill.start_worker(n)
            restart_times.append(time.time() - began)
            self.monitor.fault_ended()
        self.outcome.facts["faults injected"] = f"{kills} SIGKILLs of a qcluster"
        self.outcome.facts["qcluster restart (until 'running')"] = (
            f"mean {sum(restart_times) / len(restart_times):.1f} s, max {max(restart_times):.1f} s"
        )
        self.outcome.checks.append(Check(f"at least {self.args.kills} kills", kills >= self.args.kills, str(kills)))


class NatsKillDrill(KillDrill):
    """The bus relay under fire: SIGKILL its qcluster at random moments and restart NATS once.

    The stack publishes to a nats-server of the drill's own (``bench/natsd.py``). Afterwards the
    stream must hold exactly one message per outbox event by ``Nats-Msg-Id`` (none missing, none
    twice: a batch published again after a kill is dropped by JetStream), each order's messages
    in version order, and while NATS was down the relay must have said ``receiver_unavailable``.
    """

    NATS_DOWN_SECONDS = 5.0
    NATS_DOWN_AT_MOST = 60.0

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        super().__init__(name, args)
        self.nats = natsd.NatsServer("drill-nats")
        self.states_while_down: Counter = Counter()

    def stack(self) -> Stack:
        return Stack(self.args.scale_out, extra_env=self.nats.env())

    def run(self) -> Outcome:
        self.nats.start()
        try:
            return super().run()
        finally:
            self.nats.remove()

    def fault(self, drill: Stack, started: float) -> None:
        restart = threading.Thread(target=self._restart_nats, args=(drill, started), daemon=True)
        restart.start()
        super().fault(drill, started)
        restart.join()

    def _restart_nats(self, drill: Stack, started: float) -> None:
        """Stop NATS midway; start it again once the relay has said so (a killed worker may be restarting)."""
        sleep_until(started + self.args.duration / 2)
        self.nats.stop()
        stopped = time.time()
        api = drill.api()
        while time.time() - stopped < self.NATS_DOWN_SECONDS or (
            not self.states_while_down["receiver_unavailable"] and time.time() - stopped < self.NATS_DOWN_AT_MOST
        ):
            with contextlib.suppress(OSError, HTTPException):
                status, body = api.request("GET", "/api/projections/")
                if status == 200:
                    self.states_while_down.update(row["state"] for row in body["results"] if row["name"] == "nats")
            time.sleep(0.25)
        self.nats.start()
        self.monitor.fault_ended()
        self.outcome.facts["NATS restarts"] = f"1 (down {time.time() - stopped:.1f} s, clean stop and start)"

    def _run(self, drill: Stack) -> None:
        super()._run(drill)
        facts, checks = self.outcome.facts, self.outcome.checks
        facts["relay states seen while NATS was down"] = dict(self.states_while_down)
        checks.append(
            Check(
                "the relay said receiver_unavailable while NATS was down",
                self.states_while_down["receiver_unavailable"] > 0,
                str(dict(self.states_while_down)),
            )
        )
        checks.extend(check_stream(drill))


def check_stream(drill: Stack) -> list[Check]:
    """Read the whole stream back (``nats_tail``) and compare it with the outbox, event by event."""
    lines = stack.manage(drill.env, "nats_tail", "--envelope", "--idle", "3", "--durable", "drill_check").splitlines()
    envelopes = [json.loads(line) for line in lines if line.startswith("{")]
    ids = Counter(envelope["headers"]["Nats-Msg-Id"] for envelope in envelopes)
    outbox = {row[0] for row in sql(WRITE_DB, "SELECT event_id::text FROM outbox_event")}
    missing, extra = outbox - set(ids), set(ids) - outbox
    twice = {msg_id: n for msg_id, n in ids.items() if n > 1}
    versions: dict[tuple[str, int], list[int]] = {}
    for envelope in envelopes:
        event = envelope["event"]
        versions.setdefault((event["aggregate_type"], event["aggregate_id"]), []).append(event["aggregate_version"])
    out_of_order = [stream for stream, seen in versions.items() if seen != list(range(1, len(seen) + 1))]
    detail = (
        f"{len(envelopes)} messages, {len(outbox)} outbox events: "
        f"{len(missing)} missing, {len(twice)} twice, {len(extra)} unknown"
    )
    order_detail = f"{len(out_of_order)} of {len(versions)} streams out of order"
    return [
        Check("one message per outbox event by Nats-Msg-Id", not missing and not twice and not extra, detail),
        Check("each order's messages in version order", not out_of_order, order_detail),
    ]


class ConvergeDrill(LoadedDrill):
    """The load alone: the drain keeps up and every property holds with no fault at all."""

    def fault(self, drill: Stack, started: float) -> None:
        self.outcome.facts["faults injected"] = 0


class PgRestartDrill(LoadedDrill):
    """Restart PostgreSQL with ``-m immediate`` (every connection cut, crash recovery) mid-load."""

    def fault(self, drill: Stack, started: float) -> None:
        pids = [drill.web.pid, *(worker.pid for worker in drill.workers)]
        downtimes = []
        for fraction in (1 / 3, 2 / 3):
            sleep_until(started + self.args.duration * fraction)
            began = time.time()
            stack.restart_postgres("-m", "immediate")
            wait_for_postgres()
            downtimes.append(time.time() - began)
            self.monitor.fault_ended()
        self.outcome.facts["faults injected"] = f"{len(downtimes)} PostgreSQL restarts (-m immediate)"
        self.outcome.facts["PostgreSQL down (restart until it answers)"] = ", ".join(f"{d:.1f} s" for d in downtimes)
        same = pids == [drill.web.pid, *(worker.pid for worker in drill.workers)]
        self.outcome.checks.append(Check("web and qcluster not restarted by the harness", same, str(pids)))


def wait_for_postgres(timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            sql("postgres", "SELECT 1")
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError("PostgreSQL did not come back")


def ensure_postgres_running() -> None:
    """Whatever happened, leave the shared PostgreSQL running (rule 2)."""
    try:
        sql("postgres", "SELECT 1")
    except psycopg.OperationalError:
        stack.restart_postgres()  # a stopped server starts, with its own options
        wait_for_postgres()


class LongTransactionDrill(LoadedDrill):
    """Hold two unrelated write transactions open mid-load: one in this database, one in another of the cluster.

    Neither can write the outbox (they do not hold the outbox writers' lock), so the drain's
    horizon must not wait for them (ADR 0015): projection lag has to stay under
    ``MAX_LAG_SECONDS`` all the while they are open. Before ADR 0015 it grew with the hold.
    """

    HOLD_AT, HOLD_FOR = 15.0, 20.0
    MAX_LAG_SECONDS = 1.0
    SCRATCH_TABLE = "drill_unrelated_job"

    def fault(self, drill: Stack, started: float) -> None:
        try:
            self._hold(drill, started)
        except Exception as error:  # the injector thread's exception would otherwise vanish
            self.outcome.checks.append(Check("transactions held as planned", False, f"{type(error).__name__}: {error}"))
            raise

    def _execute(self, db: str, statement: str) -> None:
        with psycopg.connect(stack.database_url(db), autocommit=True) as connection:
            connection.execute(statement)

    def _hold(self, drill: Stack, started: float) -> None:
        api = drill.api()
        stack.create_database(UNRELATED_DB)
        databases = (WRITE_DB, UNRELATED_DB)
        for db in databases:
            self._execute(db, f"CREATE TABLE {self.SCRATCH_TABLE} (note text)")
        sleep_until(started + self.HOLD_AT)
        before = projection_lag(api)
        holders = [psycopg.connect(stack.database_url(db)) for db in databases]
        try:
            txids = []
            for holder in holders:  # a write: the transaction gets an id, as a batch job or migration would
                holder.execute(f"INSERT INTO {self.SCRATCH_TABLE} VALUES ('a long batch job')")
                txids.append(holder.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0])
            held = time.time()
            max_events, max_seconds = self._sample(api, until=held + self.HOLD_FOR)
            still_open = [
                sql(WRITE_DB, "SELECT pg_xact_status(%s::text::xid8)", (str(txid),))[0][0] == "in progress"
                for txid in txids
            ]
        finally:
            for holder in holders:
                holder.rollback()
                holder.close()
        released = time.time()
        self.monitor.fault_ended()
        for db in databases:
            self._execute(db, f"DROP TABLE IF EXISTS {self.SCRATCH_TABLE}")
        head_at_release = sql(WRITE_DB, "SELECT COALESCE(MAX(position), 0) FROM outbox_event")[0][0]
        caught_up = self._wait_position(api, head_at_release)
        facts = self.outcome.facts
        facts["faults injected"] = (
            f"2 write transactions held {released - held:.1f} s: txid {txids[0]} in {WRITE_DB} "
            f"(INSERT into {self.SCRATCH_TABLE}), txid {txids[1]} in {UNRELATED_DB}"
        )
        facts["lag before hold (events, s)"] = f"{before[0]}, {before[1]:.1f}" if before else "?"
        facts["max lag during hold (events, s)"] = f"{max_events}, {max_seconds:.2f}"
        facts["caught up with the head at release"] = (
            f"{caught_up - released:.1f} s after release" if caught_up else "NO (within 60 s)"
        )
        self.outcome.checks.append(
            Check("both transactions open until the end of the hold", all(still_open), str(still_open))
        )
        self.outcome.checks.append(
            Check(
                f"lag under {self.MAX_LAG_SECONDS:.0f} s while held (the horizon waits for outbox writers only)",
                max_seconds < self.MAX_LAG_SECONDS,
                f"max {max_seconds:.2f} s, {max_events} events",
            )
        )
        self.outcome.checks.append(
            Check("caught up after release", caught_up is not None, facts["caught up with the head at release"])
        )

    @staticmethod
    def _sample(api: Api, *, until: float) -> tuple[int, float]:
        max_events, max_seconds = 0, 0.0
        while time.time() < until:
            lag = projection_lag(api)
            if lag is not None:
                max_events, max_seconds = max(max_events, lag[0]), max(max_seconds, lag[1])
            time.sleep(0.5)
        return max_events, max_seconds

    @staticmethod
    def _wait_position(api: Api, position: int, timeout: float = 60) -> float | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            lag = projection_lag(api)
            if lag is not None and lag[2] >= position:
                return time.time()
            time.sleep(0.1)
        return None


class ConflictDrill(Drill):
    """100 threads send a command with the same ``expected_version`` to one order at the same moment."""

    THREADS = 100

    def _run(self, drill: Stack) -> None:
        rounds = self.args.rounds
        api = drill.api()
        customers, skus = seed_catalogue(api, customers=1, products=self.THREADS * ((rounds + 1) // 2) + 1)
        status, placed = api.request(
            "POST", "/api/orders/", {"customer_id": customers[0], "lines": [{"sku": skus[-1], "quantity": 1}]}
        )
        assert status == 201, placed
        order_id, version = placed["order_id"], placed["version"]
        answers_per_round = []
        for n in range(rounds):
            # Even rounds: distinct discounts; odd rounds: add a line, each thread its own sku.
            if n % 2 == 0:
                make = lambda i: (f"/api/orders/{order_id}/discount/", {"percent": i % 50})  # noqa: E731
            else:
                pool = skus[(n // 2) * self.THREADS : (n // 2 + 1) * self.THREADS]
                make = lambda i, pool=pool: (f"/api/orders/{order_id}/lines/", {"sku": pool[i], "quantity": 1})  # noqa: E731
            answers = race(drill, make, version, self.THREADS)
            answers_per_round.append(answers)
            version += 1
        ledger = Ledger()
        ledger.record(order_id, version, "PENDING")
        drained = wait_drained(api)
        self._report(drill, order_id, version, answers_per_round, ledger, drained)

    def _report(self, drill: Stack, order_id: int, version: int, rounds: list[Counter], ledger: Ledger,
                drained: float | None) -> None:  # fmt: skip
        facts, checks = self.outcome.facts, self.outcome.checks
        facts["rounds x concurrent commands"] = f"{len(rounds)} x {self.THREADS} (discount / add line alternately)"
        for n, answers in enumerate(rounds, start=1):
            facts[f"round {n} (expected_version {n})"] = _counter(answers)
        one_winner = all(a["200"] == 1 and a["409 version_conflict"] == self.THREADS - 1 for a in rounds)
        checks.append(Check("exactly one 200 per version, 409 version_conflict for the rest", one_winner, ""))
        no_5xx = not any(k[0] == "5" or "Error" in k for a in rounds for k in a)
        checks.append(Check("no 5xx and no dropped connection", no_5xx, ""))
        versions = [
            v
            for (v,) in sql(
                WRITE_DB,
                "SELECT aggregate_version FROM outbox_event WHERE aggregate_type = "
                "'order' AND aggregate_id = %s ORDER BY position",
                (order_id,),
            )
        ]
        checks.append(Check("outbox versions gapless 1..N", versions == list(range(1, version + 1)), f"{versions}"))
        checks.append(Check("drained (lag 0) in time", drained is not None, ""))
        _status, body = drill.api().request("GET", f"/api/orders/{order_id}/")
        checks.append(Check("read model at version N", body.get("version") == version, f"{body.get('version')}"))
        checks.extend(run_checks(drill, ledger))


def race(drill: Stack, make: Callable[[int], tuple[str, dict]], version: int, threads: int) -> Counter:
    """Release ``threads`` commands at one barrier, each on its own warm connection; count the answers."""
    barrier = threading.Barrier(threads)
    answers: Counter = Counter()
    lock = threading.Lock()

    def one(i: int) -> None:
        api = drill.api()
        api.request("GET", "/api/projections/")  # open the keep-alive connection before the barrier
        path, body = make(i)
        barrier.wait()
        try:
            status, answer = api.request("POST", path, {**body, "expected_version": version})
            kind = f"{status} {answer.get('error', {}).get('code', '')}".strip()
        except (OSError, HTTPException) as error:
            kind = type(error).__name__
        with lock:
            answers[kind] += 1

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return answers


class RestoreDrill:
    """Dump, restore into a fresh cluster (ids lower, or higher with ``--epoch``), keep selling (ADR 0017)."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.args = args

    def run(self) -> Outcome:
        epoch = self.args.epoch
        checks = restore_drill.run(orders=self.args.restore_orders, after=self.args.restore_after, epoch=epoch)
        mode = "transaction ids restart lower" if epoch == 0 else f"transaction ids higher (epoch {epoch})"
        facts = {"orders before / after the restore": f"{self.args.restore_orders} / {self.args.restore_after}"}
        return Outcome("restore", mode, facts=facts, checks=[Check(what, ok, seen) for what, seen, ok in checks])


DRILLS = {
    "kill": KillDrill,
    "nats-kill": NatsKillDrill,
    "conflicts": ConflictDrill,
    "pg-restart": PgRestartDrill,
    "long-transaction": LongTransactionDrill,
    "converge": ConvergeDrill,
    "restore": RestoreDrill,
}
ALL = {False: ["kill", "conflicts", "pg-restart", "long-transaction", "restore"], True: ["converge", "kill"]}


def name_databases(prefix: str) -> None:
    """Name the drills' databases ``<prefix>_write``, ``<prefix>_read`` and ``<prefix>_unrelated``."""
    global WRITE_DB, READ_DB, UNRELATED_DB
    WRITE_DB, READ_DB, UNRELATED_DB = (f"{prefix}_{role}" for role in ("write", "read", "unrelated"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drill", choices=[*DRILLS, "all"])
    parser.add_argument("--scale-out", action="store_true", help="Redis broker, two qclusters, READ_DATABASE_URL")
    parser.add_argument("--duration", type=float, default=60, help="seconds of order load")
    parser.add_argument("--rate", type=float, default=40, help="orders placed per second")
    parser.add_argument("--kills", type=int, default=20, help="qcluster SIGKILLs in the kill drill")
    parser.add_argument("--rounds", type=int, default=6, help="conflict rounds (versions raced)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epoch", type=int, default=0, help="restore: start the new cluster's ids at epoch N (higher)")
    parser.add_argument("--restore-orders", type=int, default=300, help="restore: orders seeded before the dump")
    parser.add_argument("--restore-after", type=int, default=50, help="restore: orders placed after the restore")
    parser.add_argument("--databases", default="drill", metavar="PREFIX", help="name the drills' databases PREFIX_…")
    args = parser.parse_args()
    name_databases(args.databases)
    names = ALL[args.scale_out] if args.drill == "all" else [args.drill]
    if "pg-restart" in names:
        stack.postgres_control()  # found while the server answers: ensure_postgres_running may need it later
    outcomes = []
    with stack.bench_lock():
        try:
            for name in names:
                outcome = DRILLS[name](name, args).run()
                print(outcome.markdown(), flush=True)
                outcomes.append(outcome)
        finally:
            ensure_postgres_running()
    failed = [o.drill for o in outcomes if not o.ok]
    print(f"**{len(outcomes) - len(failed)} drills passed, {len(failed)} failed** {failed or ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
