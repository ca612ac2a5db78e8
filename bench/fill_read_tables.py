"""Fill the read tables of a seeded database straight from its write tables, at SQL speed (no drain).

For timing *reads* only (``bench/pages.py``) on a database too large to drain in the time at
hand: the drain applies about 700 events/s per projection when the two cores are shared with
other work (bench/pages.md), so a million orders (4 million events) take hours. This writes, with
one ``INSERT … SELECT`` per table, the rows the projections would have written for the orders as
they stand (``order_summary``, ``order_line_view``, ``customer_stats``, ``daily_sales``,
``product_sales``, ``customer_sales`` and the rollups of ADR 0021), then moves every projection's
checkpoint to the head, so the screens show the data as current.

It is no substitute for the drain: the projections' own per-order state tables stay empty, so
the database must not be drained or verified afterwards (re-seed it instead). The figures it
produces are the read side's cost at that size, which is what the page benchmark measures.

    .venv/bin/python -m bench.fill_read_tables bench_reports

Standard library and psycopg only; the database is on the server of ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import time

import psycopg

from bench import stack

DAY = "(o.placed_at AT TIME ZONE 'UTC')::date"
STATEMENTS = {
    "order_summary": """
        INSERT INTO order_summary (order_id, customer_id, customer_name, status, currency, subtotal, discount, total,
                                   item_count, line_count, last_item, tracking_number, version, placed_at, updated_at)
        SELECT o.id, o.customer_id, c.name, o.status, o.currency, o.subtotal, o.discount, o.total, o.item_count,
               lines.count, lines.last_item, o.tracking_number, o.version, o.placed_at, o.updated_at
        FROM orders_write_order o
        JOIN orders_write_customer c ON c.id = o.customer_id
        JOIN (SELECT order_id, COUNT(*) AS count, (ARRAY_AGG(product_name ORDER BY id DESC))[1] AS last_item
              FROM orders_write_orderline GROUP BY order_id) lines ON lines.order_id = o.id
    """,
    "order_line_view": """
        INSERT INTO order_line_view (order_id, sku, product_id, product_name, quantity, unit_price, line_total)
        SELECT order_id, sku, product_id, product_name, quantity, unit_price, line_total FROM orders_write_orderline
    """,
    "customer_stats": """
        INSERT INTO customer_stats (customer_id, name, email, is_active, order_count, cancelled_count, lifetime_value,
                                    last_order_at, version)
        SELECT c.id, c.name, c.email, c.is_active, COALESCE(s.orders, 0), COALESCE(s.cancelled, 0),
               COALESCE(s.value, 0), s.last_order_at, c.version
        FROM orders_write_customer c
        LEFT JOIN (SELECT customer_id, COUNT(*) AS orders, COUNT(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
                          COALESCE(SUM(total) FILTER (WHERE status <> 'CANCELLED'), 0) AS value,
                          MAX(placed_at) AS last_order_at
                   FROM orders_write_order GROUP BY customer_id) s ON s.customer_id = c.id
    """,
    "daily_sales": f"""
        INSERT INTO daily_sales (day, orders, revenue, cancellations, discount_total)
        SELECT {DAY}, COUNT(*), COALESCE(SUM(o.total) FILTER (WHERE o.status <> 'CANCELLED'), 0),
               COUNT(*) FILTER (WHERE o.status = 'CANCELLED'),
               COALESCE(SUM(o.discount) FILTER (WHERE o.status <> 'CANCELLED'), 0)
        FROM orders_write_order o GROUP BY 1
    """,
    "product_sales": f"""
        INSERT INTO product_sales (day, sku, product_name, units, revenue)
        SELECT {DAY}, l.sku, MAX(l.product_name), SUM(l.quantity), SUM(l.line_total)
        FROM orders_write_orderline l JOIN orders_write_order o ON o.id = l.order_id
        WHERE o.status <> 'CANCELLED' GROUP BY 1, 2
    """,
    "customer_sales": f"""
        INSERT INTO customer_sales (day, customer_id, orders, revenue)
        SELECT {DAY}, o.customer_id, COUNT(*), COALESCE(SUM(o.total) FILTER (WHERE o.status <> 'CANCELLED'), 0)
        FROM orders_write_order o GROUP BY 1, 2
    """,
    "order_status_day": f"""
        INSERT INTO order_status_day (day, status, orders)
        SELECT {DAY}, o.status, COUNT(*) FROM orders_write_order o GROUP BY 1, 2
    """,
    "order_status_month": """
        INSERT INTO order_status_month (month, status, orders)
        SELECT date_trunc('month', day)::date, status, SUM(orders) FROM order_status_day GROUP BY 1, 2
    """,
    "monthly_sales": """
        INSERT INTO monthly_sales (month, orders, revenue, cancellations, discount_total)
        SELECT date_trunc('month', day)::date, SUM(orders), SUM(revenue), SUM(cancellations), SUM(discount_total)
        FROM daily_sales GROUP BY 1
    """,
    "product_sales_month": """
        INSERT INTO product_sales_month (month, sku, product_name, units, revenue)
        SELECT date_trunc('month', day)::date, sku, MAX(product_name), SUM(units), SUM(revenue)
        FROM product_sales GROUP BY 1, 2
    """,
    "customer_sales_month": """
        INSERT INTO customer_sales_month (month, customer_id, orders, revenue)
        SELECT date_trunc('month', day)::date, customer_id, SUM(orders), SUM(revenue) FROM customer_sales GROUP BY 1, 2
    """,
    "customer_sales_year": """
        INSERT INTO customer_sales_year (year, customer_id, orders, revenue)
        SELECT date_trunc('year', day)::date, customer_id, SUM(orders), SUM(revenue) FROM customer_sales GROUP BY 1, 2
    """,
}
PROJECTIONS = ("order_views", "sales", "reports")
STATE_TABLES = ("order_views_customer", "sales_order_state", "reports_order_state")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="a database seeded by bench/seed_log.py, e.g. bench_reports")
    args = parser.parse_args()
    with psycopg.connect(stack.database_url(args.database), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join((*STATEMENTS, *STATE_TABLES))}")
        connection.execute("DELETE FROM projection_parked_stream")
        for table, sql in STATEMENTS.items():
            started = time.monotonic()
            rows = connection.execute(sql).rowcount
            print(f"  {table}: {rows:,} rows in {time.monotonic() - started:.1f} s", flush=True)
        head = connection.execute(
            "SELECT COALESCE(MAX(position), 0), COALESCE(MAX(txid)::text::bigint, 0), COUNT(*) FROM outbox_event"
        ).fetchone()
        for name in PROJECTIONS:
            connection.execute(
                "INSERT INTO projection_checkpoint (projection, timeline, last_position, last_txid, events_applied,"
                " last_applied_at, heartbeat_at) VALUES (%s, 1, %s, %s, %s, now(), now())"
                " ON CONFLICT (projection) DO UPDATE SET last_position = excluded.last_position,"
                " last_txid = excluded.last_txid, events_applied = excluded.events_applied,"
                " last_applied_at = now(), heartbeat_at = now()",
                [name, head[0], head[1], head[2]],
            )
        connection.execute("VACUUM (ANALYZE)")
    print(f"{args.database}: read tables filled, checkpoints at position {head[0]:,}")


if __name__ == "__main__":
    main()
