"""The restore drill (property 11): dump the shop, restore it into a fresh cluster, keep selling.

Seed a shop and drain it, ``pg_dump`` it, restore it into a new PostgreSQL cluster on another
port (``bench.clusters``: its transaction ids restart low, or with ``--epoch N`` far higher),
place orders there through the services, and check what an operator would see: status reports
the restore (not "up to date") while events are pending, then one drain applies every order
exactly once and ``verify_projections`` is clean. Prints a Markdown table; exits 1 on a miss.

    .venv/bin/python -m bench.drills restore [--epoch 3] [--restore-orders 300] [--restore-after 50]
"""

from __future__ import annotations

import json
import subprocess

import psycopg

from bench import stack
from bench.clusters import ScratchCluster, copy_database

DATABASE = "drill_restore"
PLACE = """
from orders_write import lookups
from orders_write.services import LineInput, order_place
customers, skus = lookups.customer_ids_active(), sorted(lookups.product_prices_active())
for n in range({count}):
    order_place(customer_id=customers[n % len(customers)], lines=[LineInput(skus[n % len(skus)], 1 + n % 3)])
"""


def _status(env: dict[str, str]) -> list[dict]:
    return json.loads(stack.manage(env, "projection_status", "--json"))


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchone()[0]


def _txid(url: str) -> int:
    return _count(url, "SELECT pg_current_xact_id()::text::bigint")


def run(*, orders: int, after: int, epoch: int) -> list[tuple[str, str, bool]]:
    """Run the drill; return its checks as (what, seen, ok)."""
    source = stack.create_database(DATABASE)
    env = stack.stack_env(source)
    stack.migrate(env)
    stack.manage(env, "seed_demo", "--customers", "20", "--products", "10", "--orders", str(orders), "--seed", "7")
    stack.manage(env, "drain_projections")
    cluster = ScratchCluster(epoch=epoch).start()
    try:
        copy_database(source, cluster, DATABASE)
        restored = stack.stack_env(cluster.url(DATABASE))
        checks = [("restored cluster's ids vs the source's", f"{_txid(cluster.url(DATABASE))} vs {_txid(source)}",
                   (_txid(cluster.url(DATABASE)) < _txid(source)) == (epoch == 0))]  # fmt: skip
        stack.manage(restored, "shell", "-c", PLACE.format(count=after))
        seen = {row["name"]: (row["state"], row["lag_events"]) for row in _status(restored)}
        checks.append(
            ("status before the drain", str(seen), all(s == "restored" and lag > 0 for s, lag in seen.values()))
        )
        stack.manage(restored, "drain_projections")
        seen = {row["name"]: (row["state"], row["lag_events"]) for row in _status(restored)}
        checks.append(("status after the drain", str(seen), all(value == ("idle", 0) for value in seen.values())))
        url = cluster.url(DATABASE)
        written = _count(url, "SELECT COUNT(*) FROM orders_write_order")
        projected = _count(url, "SELECT COUNT(*) FROM order_summary")
        checks.append(
            ("orders written / projected", f"{written} / {projected}", written == projected == orders + after)
        )
        daily = _count(url, "SELECT COALESCE(SUM(orders), 0) FROM daily_sales")
        checks.append(("orders counted in daily_sales", str(daily), daily == orders + after))
        verified = subprocess.run(
            [stack.PYTHON, "manage.py", "verify_projections"], cwd=stack.ROOT, env=restored, capture_output=True,
            text=True, timeout=600,
        )  # fmt: skip
        checks.append(("verify_projections", f"exit {verified.returncode}", verified.returncode == 0))
        return checks
    finally:
        cluster.stop()


def markdown(checks: list[tuple[str, str, bool]], epoch: int) -> str:
    lines = [f"restore drill (ids {'restart lower' if epoch == 0 else f'higher, epoch {epoch}'})", "",
             "| check | seen | ok |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {what} | {seen} | {'yes' if ok else '**NO**'} |" for what, seen, ok in checks]
    return "\n".join(lines)
