"""Time every dashboard page, CSV export and admin list page on the development server.

Run on demand against a seeded PostgreSQL database (see bench/pages.md), or let it seed one::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages .venv/bin/python -m bench.pages
    .venv/bin/python -m bench.pages --database bench_pages --seed 100000   # seed_log, then drain and time
    .venv/bin/python -m bench.pages --database bench_reports --no-drain     # time it as it is

Without ``DATABASE_URL`` it times ``bench_pages`` on ``postgres://postgres@127.0.0.1:5432``
(``bench/stack.py``); ``--database`` names another database on the server of ``DATABASE_URL``.
``--seed ORDERS [--days 730]`` (re)creates it with ``bench/seed_log.py --lifecycle full`` first,
at any size. ``--fill`` fills the read tables by SQL (``bench/fill_read_tables.py``) instead of
the drain, for a database too big to drain in the time at hand (reads only).

What it does, in order:

1. ``manage.py drain_projections``, so the read tables hold every event (``--no-drain`` skips it);
2. a staff superuser ``bench`` with a fresh random password (``manage.py shell``);
3. ``VACUUM (ANALYZE)`` of the tables the planner has never had statistics for, as autovacuum
   would have done (it is off on the shared PostgreSQL here; ``--analyze none|all``);
4. discovers the pages in a Django helper process: every changelist in ``admin.site._registry``,
   the admin's extra list pages (daily sales per product and per customer), filtered, searched
   and paged variants of the big lists, the dashboard for its default range, 7 and 366 days,
   and every CSV export; it also counts the SQL queries each page runs (Django test client);
5. starts ``manage.py runserver --noreload`` on a free port with ``DEBUG=false``,
   ``DJANGO_SETTINGS_MODULE=config.settings.base`` and a throw-away ``SECRET_KEY`` (with
   ``DEBUG`` on Django would keep every SQL statement in memory);
6. logs in through ``/dashboard/login/`` (a real form POST with its CSRF token);
7. requests every page ``--warmup`` times (default 2), then ``--repeat`` times (default 20),
   round-robin: each round visits every page once, so a burst of load from elsewhere on the
   machine spreads over all pages instead of landing on one;
8. prints a Markdown table: status, size, SQL statements and their total time (the median of
   five warm in-process requests of step 4), p50 / p95 / max wall time (client side: request sent until
   the last byte read; p95 is nearest-rank) and the server process's mean CPU per request
   (from /proc: Python only, PostgreSQL's own CPU is not in it), and flags
   every page whose p50 exceeds ``--budget`` (default 300 ms). Exit status 1 when a page is
   over budget or answers anything but 200.

The server is always stopped at the end. A run (and ``--profile``) holds the machine-wide bench
lock (``bench/stack.py``), so it waits for another measured run instead of timing it. Only the
standard library and psycopg run in this process; the helper modes import Django.

Other modes::

    python -m bench.pages --list                 # the pages it would request, nothing timed
    python -m bench.pages --only 'order|outbox'  # only pages whose name or URL matches
    python -m bench.pages --json var/pages.json  # also write every sample (directories created)
    python -m bench.pages --profile '/admin/orders_write/order/?p=1000' [--explain]
                                                 # one request in-process: every SQL statement with
                                                 # its time, and EXPLAIN (ANALYZE, BUFFERS) of each
    python -m bench.pages --ignore-budget        # exit 1 only for a page that is not 200 (smoke runs)

The write side is read with plain SQL, never through its models (the import-linter contracts
in ``pyproject.toml`` keep the benchmarks off them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")
BENCH_USER = "bench"
DEFAULT_DATABASE = "bench_pages"

# ---------------------------------------------------------------------------------------------
# Helper side: runs inside Django (``--helper discover`` / ``--profile``), never in the timing process.
# ---------------------------------------------------------------------------------------------


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def _page(group: str, name: str, url: str, kind: str = "html") -> dict:
    return {"group": group, "name": name, "url": url, "kind": kind}


def _q(**params: object) -> str:
    return "?" + urlencode(params)


def discover_pages() -> list[dict]:
    """Return every page to time, with data-dependent parameters taken from the database."""
    from django.contrib import admin
    from django.urls import reverse

    from config.admin_paginator import MAX_PAGES
    from orders_read.dashboard.export import TABLES
    from orders_read.models import OrderSummary

    today = datetime.now(UTC).date()
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    quarter = {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()}
    year = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}
    ten_years = {"from": (today - timedelta(days=3652)).isoformat(), "to": today.isoformat()}

    pages = [
        _page("dashboard", "dashboard (default: last 30 days)", "/dashboard/"),
        _page("dashboard", "dashboard 7 days", "/dashboard/" + _q(**week)),
        _page("dashboard", "dashboard 90 days", "/dashboard/" + _q(**quarter)),
        _page("dashboard", "dashboard 366 days", "/dashboard/" + _q(**year)),
        _page("dashboard", "dashboard this year", "/dashboard/" + _q(range="this_year")),
        _page("dashboard", "dashboard last 12 months", "/dashboard/" + _q(range="last_12_months")),
        _page("dashboard", "dashboard all time", "/dashboard/" + _q(range="all_time")),
    ]
    for key in TABLES:
        pages.append(_page("dashboard", f"csv {key} (30 days)", f"/dashboard/export/{key}.csv", "csv"))
        pages.append(_page("dashboard", f"csv {key} (366 days)", f"/dashboard/export/{key}.csv" + _q(**year), "csv"))
        pages.append(
            _page("dashboard", f"csv {key} (all time)", f"/dashboard/export/{key}.csv" + _q(range="all_time"), "csv")
        )
    pages.append(_page("api", "api summary 30 days", "/api/reports/summary/", "json"))
    pages.append(_page("api", "api summary 10 years", "/api/reports/summary/" + _q(**ten_years), "json"))
    pages.append(_page("api", "api top customers 366 days", "/api/reports/top-customers/" + _q(**year), "json"))

    # Values that make the filtered variants hit real rows.
    orders = _write_side_value("SELECT count(*) FROM orders_write_order")
    middle_order = _write_side_value("SELECT id FROM orders_write_order ORDER BY id DESC OFFSET %s", orders // 2)
    busiest_sql = "SELECT customer_id FROM orders_write_order GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1"
    busiest = _write_side_value(busiest_sql) or 1
    customer_name = _write_side_value("SELECT name FROM orders_write_customer ORDER BY id LIMIT 1") or "x"
    name_part = customer_name.split()[-1][:5].lower()
    sku = _write_side_value("SELECT sku FROM orders_write_product ORDER BY sku LIMIT 1") or "X"

    def deep_pages(rows: int, per_page: int = 50) -> list[tuple[str, str]]:
        # The middle page and the last one the list offers, which its first page links to: a page
        # is an OFFSET, read and thrown away, so it costs its depth. The admin offers at most
        # MAX_PAGES pages (config/admin_paginator.py); a deeper number answers a redirect.
        last = max(2, min(MAX_PAGES, math.ceil(rows / per_page)))
        return [(f"late page {max(2, last // 2)}", _q(p=max(2, last // 2))), (f"last page {last}", _q(p=last))]

    extra: dict[str, list[tuple[str, str]]] = {
        "orders_write.order": [
            ("status SHIPPED", _q(status__exact="SHIPPED")),
            ("status PENDING", _q(status__exact="PENDING")),
            ("search order id", _q(q=middle_order)),
            (f"search name '{name_part}'", _q(q=name_part)),
            ("busiest customer", _q(customer__id__exact=busiest)),
            (
                "placed past 7 days",
                _q(placed_at__gte=(today - timedelta(days=6)).isoformat(), placed_at__lt=(today + timedelta(1))),
            ),
            ("page 2", _q(p=2)),
            *deep_pages(orders),
        ],
        "orders_write.customer": [
            (f"search '{name_part}'", _q(q=name_part)),
            ("inactive", _q(is_active__exact=0)),
            ("page 2", _q(p=2)),
        ],
        "orders_write.product": [("search sku", _q(q=sku[:3]))],
        "orders_read.ordersummary": [
            ("status SHIPPED", _q(status="SHIPPED")),
            ("status PENDING", _q(status="PENDING")),
            ("search order id", _q(q=middle_order)),
            ("busiest customer", _q(customer=busiest)),
            ("this month (date hierarchy)", _q(placed_at__year=today.year, placed_at__month=today.month)),
            (
                "one day (date hierarchy)",
                _q(placed_at__year=today.year, placed_at__month=today.month, placed_at__day=today.day),
            ),
            ("page 2", _q(p=2)),
            *deep_pages(OrderSummary.objects.count()),
        ],
        "orders_read.customerstats": [
            ("search id", _q(q=busiest)),
            ("inactive", _q(is_active__exact=0)),
            ("page 2", _q(p=2)),
        ],
        "orders_read.dailysales": [("this year (date hierarchy)", _q(day__year=today.year))],
        "orders_write.outboxevent": [
            ("order's events", _q(aggregate_type="order", q=middle_order)),
            ("type OrderShipped", _q(event_type="OrderShipped")),
            ("last 7 days", _q(occurred_from=week["from"], occurred_to=week["to"])),
            ("page 2", _q(p=2)),
            *deep_pages(_write_side_value("SELECT count(*) FROM outbox_event")),
        ],
    }

    pages.append(_page("admin", "admin index", "/admin/"))
    for app in ("orders_write", "orders_read", "projections"):
        pages.append(_page("admin", f"{app} app index", f"/admin/{app}/"))
    project_apps = ("orders_write", "orders_read", "projections")
    registry = sorted(
        admin.site._registry,
        key=lambda m: (
            project_apps.index(m._meta.app_label) if m._meta.app_label in project_apps else 9,
            m._meta.app_label,
            m._meta.model_name,
        ),
    )
    for model in registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        group = "admin" if model._meta.app_label in project_apps else "admin (framework)"
        pages.append(_page(group, label, url))
        for name, query in extra.get(label, []):
            pages.append(_page(group, f"{label} {name}", url + query))
        if label == "orders_read.dailysales":
            for sub, narrow in (("products", _q(sku=sku)), ("customers", _q(customer_id=busiest))):
                sub_url = reverse(f"admin:orders_read_dailysales_{sub}")
                pages += [
                    _page(group, f"dailysales/{sub} (30 days)", sub_url),
                    _page(group, f"dailysales/{sub} 366 days", sub_url + _q(start=year["from"], end=year["to"])),
                    _page(
                        group,
                        f"dailysales/{sub} one {sub[:-1]} 366 days",
                        sub_url + narrow + "&" + _q(start=year["from"])[1:],
                    ),
                    _page(group, f"dailysales/{sub} page 2", sub_url + _q(p=2)),
                ]
    return pages


def _write_side_value(sql: str, *params: object) -> object:
    """The first column of the first row of ``sql`` on the write database, or None without a row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


@contextlib.contextmanager
def recording_sql():
    """Record every statement run on any database connection: (connection, SQL, params, text, ms)."""
    from django.db import connections

    statements: list[dict] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            connection = context["connection"]
            text = sql if many else connection.ops.last_executed_query(context["cursor"], sql, params)
            statements.append({"alias": connection.alias, "sql": sql, "params": params, "text": text, "ms": ms})

    with contextlib.ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(record))
        yield statements


def logged_in_client(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model()._default_manager.get_by_natural_key(username))
    return client


SQL_SAMPLES = 5  # in-process requests per page whose SQL time is the median


def count_queries(pages: list[dict], username: str) -> dict[str, dict]:
    """Request each page in-process (Django test client): its SQL statements and their time.

    The time is the median over ``SQL_SAMPLES`` requests after a warm-up one, so one slow
    statement (a checkpoint, another process's burst) does not stand for the page.
    """
    client = logged_in_client(username)
    counts = {}
    for page in pages:
        client.get(page["url"])  # warm: the figures below are for a page already seen once
        times = []
        for _ in range(SQL_SAMPLES):
            with recording_sql() as statements:
                response = client.get(page["url"])
            times.append(sum(statement["ms"] for statement in statements))
        counts[page["url"]] = {
            "status": response.status_code,
            "queries": len(statements),
            "sql_ms": round(statistics.median(times), 1),
        }
    return counts


def table_statistics(mode: str) -> dict:
    """Give the planner statistics as autovacuum would, and say what was done.

    The admin's estimated counts and every plan depend on them. Autovacuum keeps them current on
    a normal server; with ``autovacuum = off`` (as on the shared test server) a freshly seeded
    database has none: estimates are then off by a factor of 3 to 7 and some plans go wrong.
    ``mode``: ``auto`` runs ``VACUUM (ANALYZE)`` on tables (1,000+ rows) never analyzed, ``all``
    on the whole database, ``none`` measures the database as it is.
    """
    from django.db import connection

    never_analyzed_sql = (
        "SELECT schemaname, relname FROM pg_stat_user_tables WHERE n_live_tup >= 1000"
        " AND last_analyze IS NULL AND last_autoanalyze IS NULL ORDER BY n_live_tup DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute(never_analyzed_sql)
        never_analyzed = cursor.fetchall()
        if mode == "all":
            cursor.execute("VACUUM (ANALYZE)")
            done = "VACUUM (ANALYZE) of the database run first"
        elif mode == "auto" and never_analyzed:
            names = ", ".join(
                connection.ops.quote_name(s) + "." + connection.ops.quote_name(t) for s, t in never_analyzed
            )
            cursor.execute(f"VACUUM (ANALYZE) {names}")
            done = "VACUUM (ANALYZE) run first on " + ", ".join(t for _, t in never_analyzed)
        else:
            done = "no VACUUM/ANALYZE by the bench"
        cursor.execute(never_analyzed_sql)
        left = [table for _, table in cursor.fetchall()]
    return {"autovacuum": autovacuum, "done": done, "never_analyzed": left}


def helper_discover(username: str, only: str | None, analyze: str) -> None:
    _django_setup()
    stats = table_statistics(analyze)
    pages = discover_pages()
    if only:
        pages = [p for p in pages if re.search(only, p["name"] + " " + p["url"])]
    counts = count_queries(pages, username) if username else {}
    for page in pages:
        page.update(counts.get(page["url"], {}))
    json.dump({"pages": pages, "stats": stats}, sys.stdout)


def helper_profile(url: str, username: str, explain: bool) -> None:
    """Print every SQL statement one request runs, with its time; EXPLAIN ANALYZE each SELECT."""
    _django_setup()
    from django.db import connections

    client = logged_in_client(username)
    client.get(url)  # warm caches (Python imports, templates, PostgreSQL buffers)
    started = time.perf_counter()
    with recording_sql() as statements:
        response = client.get(url)
    wall = (time.perf_counter() - started) * 1000
    sql_ms = sum(statement["ms"] for statement in statements)
    print(
        f"GET {url} -> {response.status_code}: {wall:.1f} ms in-process, {len(statements)} queries, {sql_ms:.1f} ms SQL"
    )
    for number, statement in enumerate(statements, start=1):
        print(f"\n-- [{number}] {statement['ms']:.2f} ms ({statement['alias']})\n{statement['text']}")
        if explain and statement["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
            with connections[statement["alias"]].cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"], statement["params"])
                print("\n".join("   " + row[0] for row in cursor.fetchall()))


# ---------------------------------------------------------------------------------------------
# Timing side: standard library only.
# ---------------------------------------------------------------------------------------------


def server_env(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="false",
        SECRET_KEY=env.get("BENCH_SECRET_KEY") or "bench-" + secrets.token_urlsafe(32),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def bench_superuser(env: dict[str, str], username: str, password: str) -> None:
    """Make ``username`` an active superuser with ``password`` (``ensure_demo_user`` is DEBUG-only)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        f"user, _ = get_user_model().objects.get_or_create(username={username!r})\n"
        "user.is_active = user.is_staff = user.is_superuser = True\n"
        f"user.set_password({password!r})\n"
        "user.save()"
    )
    manage(env, "shell", "-c", code)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """A cookie-carrying HTTP client for one host; one connection per request, no redirects followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies = SimpleCookie()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            all_headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(header)
            return response, data
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        _, page = self.request("GET", "/dashboard/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not match:
            sys.exit("login page has no CSRF token")
        form = urlencode(
            {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": password}
        ).encode()
        response, _ = self.request(
            "POST",
            "/dashboard/login/",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{self.port}/"},
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            sys.exit(f"login failed: {response.status}")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, MANAGE, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"runserver exited with {server.returncode}; see {log_path}")
        with contextlib.suppress(OSError):
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/live")
            if conn.getresponse().status == 200:
                return server
        time.sleep(0.2)
    server.kill()
    sys.exit(f"runserver did not answer within 60 s; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(session: Session, server_pid: int, pages: list[dict], warmup: int, repeat: int) -> None:
    for page in pages:
        page.update(samples=[], cpu=[], statuses=set(), bytes=0)
    for round_number in range(warmup + repeat):
        print(f"round {round_number + 1}/{warmup + repeat}", file=sys.stderr, flush=True)
        for page in pages:
            cpu_before = cpu_seconds(server_pid)
            started = time.perf_counter()
            response, body = session.request("GET", page["url"])
            elapsed = (time.perf_counter() - started) * 1000
            cpu_after = cpu_seconds(server_pid)
            ok = response.status == 200 and (
                page["kind"] != "csv" or response.getheader("Content-Type", "").startswith("text/csv")
            )
            page["statuses"].add(response.status if ok else f"{response.status}!")
            page["bytes"] = len(body)
            if round_number >= warmup:
                page["samples"].append(elapsed)
                if cpu_before is not None and cpu_after is not None:
                    page["cpu"].append((cpu_after - cpu_before) * 1000)


def report(pages: list[dict], budget: float, header: str) -> tuple[str, list[dict]]:
    lines = [
        header,
        "",
        "| page | URL | status | KiB | queries | SQL ms | p50 ms | p95 ms | max ms | server CPU ms | |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    failing = []
    for page in pages:
        samples = page["samples"]
        p50 = statistics.median(samples)
        statuses = ",".join(str(s) for s in sorted(page["statuses"], key=str))
        over = p50 > budget
        bad = statuses != "200"
        page["answered_200"] = not bad
        if over or bad:
            failing.append(page)
        cpu = f"{statistics.mean(page['cpu']):.0f}" if page["cpu"] else "-"
        flag = (f"**OVER {budget:.0f} ms**" if over else "") + (" **not 200**" if bad else "")
        cells = [
            page["name"],
            f"`{page['url']}`",
            statuses,
            f"{page['bytes'] / 1024:.0f}",
            page.get("queries", "-"),
            page.get("sql_ms", "-"),
            f"{p50:.0f}",
            f"{percentile(samples, 0.95):.0f}",
            f"{max(samples):.0f}",
            cpu,
            flag,
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines), failing


def prepare_database(args: argparse.Namespace) -> None:
    """Point ``DATABASE_URL`` at ``--database`` (on the server it names), seeding it first with ``--seed``."""
    if args.seed or args.database or not os.environ.get("DATABASE_URL"):
        from bench import stack  # psycopg: only this preparation needs it, never the timing

        name = args.database or DEFAULT_DATABASE
        if args.seed:
            started = time.perf_counter()
            command = [sys.executable, "-m", "bench.seed_log", name, "--orders", str(args.seed)]
            command += ["--days", str(args.days), "--lifecycle", "full"]
            if subprocess.run(command, cwd=ROOT).returncode:
                sys.exit("bench.seed_log failed")
            print(f"seeded {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        os.environ["DATABASE_URL"] = stack.database_url(name)
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL server (postgres://…)")
    name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    if args.fill and subprocess.run([sys.executable, "-m", "bench.fill_read_tables", name], cwd=ROOT).returncode:
        sys.exit("bench.fill_read_tables failed")


def run(args: argparse.Namespace) -> int:
    prepare_database(args)
    env = server_env(os.environ)
    if not args.no_drain and not args.fill and not args.list:
        started = time.perf_counter()
        out = manage(env, "drain_projections")
        summary = " / ".join(out.split("\n")).strip(" /")
        print(f"drain_projections: {time.perf_counter() - started:.1f} s: {summary}", file=sys.stderr, flush=True)
    password = secrets.token_urlsafe(18)
    if not args.list:
        bench_superuser(env, BENCH_USER, password)
    command = [sys.executable, "-m", "bench.pages", "--helper", "discover", "--user", "" if args.list else BENCH_USER]
    command += ["--only", args.only] if args.only else []
    command += ["--analyze", "none" if args.list else args.analyze]
    started = time.perf_counter()
    helper = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if helper.returncode:
        sys.exit(f"page discovery failed:\n{helper.stderr}")
    found = json.loads(helper.stdout)
    pages, stats = found["pages"], found["stats"]
    print(f"discovery and query counts: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    statistics_note = f"autovacuum {stats['autovacuum']}, {stats['done']}" + (
        f", never analyzed: {', '.join(stats['never_analyzed'])}" if stats["never_analyzed"] else ""
    )
    if stats["never_analyzed"]:
        print(f"warning: {statistics_note} (see --analyze)", file=sys.stderr, flush=True)
    else:
        print(statistics_note, file=sys.stderr, flush=True)
    if args.list:
        for page in pages:
            print(f"{page['group']:<18} {page['name']:<50} {page['url']}")
        return 0

    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"bench-pages-runserver-{port}.log"
    load_before = os.getloadavg()
    server = start_server(env, port, log_path)
    try:
        session = Session(port)
        session.login(BENCH_USER, password)
        started = time.perf_counter()
        measure(session, server.pid, pages, args.warmup, args.repeat)
        took = time.perf_counter() - started
    finally:
        stop_server(server)
    load_after = os.getloadavg()

    header = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {len(pages)} pages, warm-up {args.warmup}, "
        f"{args.repeat} measured rounds in {took:.0f} s, budget p50 <= {args.budget:.0f} ms, "
        f"load average {load_before[0]:.2f} before / {load_after[0]:.2f} after, DEBUG=false, runserver --noreload; "
        f"{statistics_note}"
    )
    table, failing = report(pages, args.budget, header)
    print(table)
    if failing:
        print(f"\n{len(failing)} page(s) over budget or not 200: " + ", ".join(p["name"] for p in failing))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {"header": header, "pages": [{**p, "statuses": sorted(map(str, p["statuses"]))} for p in pages]},
                indent=1,
            )
        )
    return 1 if failing and not (args.ignore_budget and all(page["answered_200"] for page in failing)) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured rounds first (default 2)")
    parser.add_argument("--repeat", type=int, default=20, help="measured rounds (default 20)")
    parser.add_argument("--budget", type=float, default=300.0, help="p50 budget in ms (default 300)")
    parser.add_argument("--ignore-budget", action="store_true", help="exit 1 only for a page that is not 200")
    parser.add_argument("--only", help="regular expression: time only pages whose name or URL matches")
    parser.add_argument("--list", action="store_true", help="list the pages and exit")
    parser.add_argument("--no-drain", action="store_true", help="skip manage.py drain_projections")
    parser.add_argument(
        "--database",
        help=f"time this database on the server of DATABASE_URL (default: DATABASE_URL's own, else {DEFAULT_DATABASE})",
    )
    parser.add_argument("--seed", type=int, metavar="ORDERS", help="(re)create the database with bench/seed_log.py")
    parser.add_argument("--days", type=int, default=730, help="with --seed: the days the orders spread over (730)")
    parser.add_argument(
        "--fill",
        action="store_true",
        help="fill the read tables by SQL (bench/fill_read_tables.py) instead of draining: reads only",
    )
    parser.add_argument("--json", help="also write every sample to this file")
    parser.add_argument(
        "--analyze",
        choices=["auto", "all", "none"],
        default="auto",
        help="VACUUM (ANALYZE) first: tables never analyzed (auto, the default), the whole database, or nothing",
    )
    parser.add_argument("--profile", metavar="URL", help="run one request in-process and print its SQL")
    parser.add_argument("--explain", action="store_true", help="with --profile: EXPLAIN (ANALYZE, BUFFERS) each SELECT")
    parser.add_argument("--helper", choices=["discover"], help=argparse.SUPPRESS)
    parser.add_argument("--user", default=BENCH_USER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.helper == "discover":
        helper_discover(args.user, args.only, args.analyze)
        return 0
    if args.list:
        return run(args)
    from bench import stack  # psycopg; the lock itself is a file (bench/stack.py)

    with stack.bench_lock():  # measured runs never overlap, whichever clone they run from
        if args.profile:
            env = server_env(os.environ)
            bench_superuser(env, BENCH_USER, secrets.token_urlsafe(18))
            os.environ.update(env)
            helper_profile(args.profile, BENCH_USER, args.explain)
            return 0
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
