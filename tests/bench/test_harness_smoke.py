"""Every benchmark harness, and the shortest fault drill, run at a tiny size: they keep working.

Each runs as ``python -m bench.<name>`` in a subprocess, exactly as documented, against the
PostgreSQL server of the suite's ``DATABASE_URL``. A tiny run's figures mean nothing, so the
harnesses run with ``--ignore-targets`` (``--ignore-budget`` for the pages): the exit status then
says whether their own checks held (``verify_projections``, every acknowledged order projected
at its version, every page answering 200, …), and the output must hold their tables.

The harnesses drop and create the databases they are given; these are named
``smoke_<random>_…`` so that a real benchmark's databases on the same server are never touched,
and dropped afterwards. They take a lock file of their own instead of the machine-wide bench
lock (``bench.stack``): a test run must not wait for a measured run, and measures nothing.

Drills left out: ``kill`` and ``long-transaction`` need their minute of load and 20 s holds,
``pg-restart`` would restart the suite's own server; ``converge`` runs the drills' whole
machinery (stack, load, changes, drain, every check) in a few seconds.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from bench import stack

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.smoke

# 150 orders over 3 customers: the first ("heavy") has 70, the others about 40 each, as
# bench.reads needs (a customer with at least 20 orders, others with 20 to 100).
SEED_LOG_ARGS = ("--orders", "150", "--customers", "3", "--products", "5", "--heavy-orders", "70")


@pytest.fixture(scope="module")
def prefix():
    """The name prefix of every database this module's harnesses create; all dropped at the end."""
    prefix = f"smoke_{uuid.uuid4().hex[:8]}"
    yield prefix
    with psycopg.connect(stack.database_url("postgres"), autocommit=True) as connection:
        names = connection.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{prefix}_%"])
        for (name,) in names.fetchall():
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def harness_env(tmp_path_factory):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env[stack.LOCK_PATH_VARIABLE] = str(tmp_path_factory.mktemp("bench") / "bench.lock")
    return env


def run_harness(env: dict[str, str], name: str, *args: str, timeout: float = 180) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, f"bench.{name} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def seeded_log(prefix, harness_env):
    """A tiny shop and its event log, loaded by bench.seed_log (drain, rebuild, reads and pages use it)."""
    database = f"{prefix}_log"
    output = run_harness(harness_env, "seed_log", database, *SEED_LOG_ARGS, "--lifecycle", "full")
    return database, output


def test_seed_log_loads_the_shop_and_its_event_log(seeded_log):
    database, output = seeded_log
    assert f"{database}: 150 orders, 3 customers, 5 products" in output
    with psycopg.connect(stack.database_url(database)) as connection:
        orders = connection.execute("SELECT count(*) FROM orders_write_order").fetchone()[0]
        placed = connection.execute("SELECT count(*) FROM outbox_event WHERE event_type = 'OrderPlaced'").fetchone()[0]
    assert orders == placed == 150


def test_drain_drains_the_log_and_verifies_it(seeded_log, harness_env):
    output = run_harness(harness_env, "drain", seeded_log[0], "--ignore-targets")
    assert "| run | wall s | events/s | CPU s (user+sys) | peak RSS MiB |" in output
    assert "| drain (drain_all, one process) |" in output
    assert "verify_projections after the drain: exit 0" in output


def test_rebuild_rebuilds_every_projection_and_verifies_them(seeded_log, harness_env):
    output = run_harness(harness_env, "rebuild", seeded_log[0], "--ignore-targets", "--each")
    assert "| projection | finished at s | took s |" in output
    assert "verify_projections: exit 0" in output
    for name in ("order_views", "sales", "reports"):
        assert re.search(rf"^\| {name} \| [0-9.]+ \| [0-9,]+ \|$", output, re.MULTILINE), name


def test_reads_times_the_read_the_join_and_the_api(seeded_log, harness_env):
    output = run_harness(
        harness_env, "reads", seeded_log[0], "--repeat", "20", "--http-repeat", "5", "--ignore-targets"
    )
    assert "| query | n | p50 ms | p99 ms | max ms | mean ms |" in output
    for row in ("| db read heavy |", "| db join heavy |", "| http read typical |"):
        assert row in output


def test_pages_requests_every_dashboard_and_admin_page(seeded_log, harness_env):
    env = {**harness_env, "DATABASE_URL": stack.database_url(seeded_log[0])}
    output = run_harness(env, "pages", "--warmup", "0", "--repeat", "1", "--ignore-budget")
    assert "| page | URL | status | KiB | queries | SQL ms | p50 ms |" in output
    assert "| dashboard (default: last 30 days) | `/dashboard/` | 200 |" in output
    assert "| orders_write.order | `/admin/orders_write/order/` | 200 |" in output


def test_pages_seeds_its_own_shop_fills_the_read_tables_and_stays_within_the_admin_page_cap(prefix, harness_env):
    output = run_harness(
        harness_env, "pages", "--database", f"{prefix}_pages", "--seed", "120", "--days", "400", "--fill",
        "--warmup", "0", "--repeat", "1", "--ignore-budget", "--only", "dashboard|api|outbox",
    )  # fmt: skip
    for row in ("| dashboard all time | `/dashboard/?range=all_time` | 200 |", "| api summary 10 years |",
                "| csv top-customers (all time) |", "| orders_write.outboxevent last page "):  # fmt: skip
        assert row in output
    assert "**not 200**" not in output and "| 302 |" not in output


@pytest.fixture(scope="module")
def writes_run(prefix, harness_env):
    """bench.writes at a tiny size: its database (seeded, with orders) and its output."""
    database = f"{prefix}_writes"
    output = run_harness(
        harness_env, "writes", "--database", database, "--orders", "5", "--rounds", "2", "--warmup", "2",
        "--seconds", "0.3", "--throughput-rounds", "1", "--customers", "5", "--products", "5", "--ignore-targets",
        "--observability", "--pair-blocks", "2", "--pair-orders", "2", "--observed-env", "LOG_FLUSH_MS=0",
    )  # fmt: skip
    return database, output


def test_writes_compares_the_service_with_the_crud_baseline_and_observability_on_with_off(writes_run):
    _, output = writes_run
    assert "| variant | orders | p50 ms | mean ms | p95 ms | ratio (mean) | ratio (p50) | target ≤ |" in output
    assert "| variant | 1 writer | 2 writers | 2 writers vs crud |" in output
    assert "Observability on / off (the on pair with LOG_FLUSH_MS=0), 4 orders each in ABBA blocks of 2: " in output
    assert "INVARIANT FAILED" not in output


def test_log_line_times_the_commands_line_each_way_against_none_on_the_writes_database(writes_run, harness_env):
    database, _ = writes_run
    output = run_harness(harness_env, "log_line", "--database", database, "--rounds", "2")
    assert "| placement p50 ms | p50 vs none | mean vs none |" in output
    assert "| none | 0 | n/a | n/a | n/a | " in output
    assert re.search(r"^\| record \| 200 \| [0-9.]+ \|", output, re.M), output
    assert re.search(r"^\| log_fields \| 200 \| [0-9.]+ \|", output, re.M), output


def test_lag_follows_api_orders_into_the_read_tables(prefix, harness_env):
    output = run_harness(
        harness_env, "lag", "--database", f"{prefix}_lag", "--rate", "10", "--duration", "2", "--users", "2",
        "--client-threads", "2", "--web-workers", "1", "--web-threads", "2", "--customers", "5", "--products", "5",
        "--ignore-targets",
    )  # fmt: skip
    assert "| lag: commit (updated_at) → visible | 20 |" in output
    assert "| acknowledged orders in order_summary at their version | 20 of 20 |" in output
    assert "\nOK: every" in output


def test_converge_drill_passes_every_check(prefix, harness_env):
    output = run_harness(
        harness_env, "drills", "converge", "--duration", "3", "--rate", "10", "--databases", f"{prefix}_drill",
        timeout=300,
    )  # fmt: skip
    assert "### converge (single)" in output
    assert "| check: verify_projections exits 0 | PASS" in output
    assert "**1 drills passed, 0 failed**" in output
