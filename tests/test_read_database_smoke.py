"""A separate read database (READ_DATABASE_URL): the whole read side lives there and stays exact.

Two fresh PostgreSQL databases; the real management commands in subprocesses: migrate both,
seed through the services, drain, verify, rebuild, verify again.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.postgres import server_dsn, server_url

ROOT = Path(__file__).resolve().parent.parent


def _tables(dbname: str) -> set[str]:
    with psycopg.connect(f"{server_dsn()} dbname={dbname}") as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def _scalar(dbname: str, sql: str) -> int:
    with psycopg.connect(f"{server_dsn()} dbname={dbname}") as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.fixture
def two_databases():
    suffix = uuid.uuid4().hex[:8]
    names = (f"split_write_{suffix}", f"split_read_{suffix}")
    with psycopg.connect(f"{server_dsn()} dbname=postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name}")
    yield names
    with psycopg.connect(f"{server_dsn()} dbname=postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.smoke
def test_the_read_side_runs_exactly_on_its_own_database(two_databases):
    write_db, read_db = two_databases
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": server_url(write_db),
        "READ_DATABASE_URL": server_url(read_db),
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
        return result.stdout

    manage("migrate", "--noinput")
    manage("migrate", "--noinput", "--database", "read")
    manage("seed_demo", "--customers", "8", "--products", "6", "--orders", "60", "--seed", "4")
    manage("drain_projections")
    manage("verify_projections", "--no-drain")
    manage("rebuild_projections")
    assert "ok" in manage("verify_projections")

    write_tables, read_tables = _tables(write_db), _tables(read_db)
    assert {"order_summary", "daily_sales", "projection_checkpoint", "shared_cache"} <= read_tables
    assert {"orders_write_order", "outbox_event", "django_q_ormq"} <= write_tables
    assert not {"order_summary", "projection_checkpoint", "shared_cache"} & write_tables
    assert not {"orders_write_order", "outbox_event"} & read_tables
    assert _scalar(read_db, "SELECT SUM(events_applied) FROM projection_checkpoint") > 0
    assert _scalar(read_db, "SELECT COUNT(*) FROM order_summary") == 60
    revenue = "SELECT COALESCE(SUM(total), 0) FROM orders_write_order WHERE status <> 'CANCELLED'"
    assert _scalar(read_db, "SELECT COALESCE(SUM(revenue), 0) FROM daily_sales") == _scalar(write_db, revenue)
    status = {row["name"]: row for row in json.loads(manage("projection_status", "--json"))}
    assert {row["lag_events"] for row in status.values()} == {0}
