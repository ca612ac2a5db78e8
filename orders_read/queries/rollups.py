"""Read a report over any range of UTC days from the rollups: whole years and months, plus the edge days.

A range is *decomposed* into signed pieces: whole periods (``year`` or ``month`` rows of the
rollup tables) and runs of days (rows of the per-day tables), each added (+1) or subtracted
(-1). "1 December to 30 December" may be read as December minus the 31st: the signs make any
mix exact, and the cheapest mix is chosen with a cost per piece (rows it reads, in units of one
day's rows; days after today hold no rows and cost nothing). Every report then sums at most a few
periods plus at most about a fortnight of days at each edge, so its cost is bounded by the
periods in the range, never by its orders (ADR 0021). Customer rankings, where a month holds
nearly every customer, read only the best customers of each piece unless that cannot settle the
ranking (``ranked_customers``, a threshold algorithm).

The sums are exact: a month row equals the sum of its days' rows (``projections/reports.py``
keeps it so, and ``verify_projections`` checks it), so the signed sum over the pieces equals the
sum over the range's days.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connections
from django.utils import timezone

from config.databases import read_alias
from config.limits import MAX_PAGE_SIZE
from events import OrderStatus
from orders_read.models import (
    CustomerSales,
    CustomerSalesMonth,
    CustomerSalesYear,
    CustomerStats,
    DailySales,
    MonthlySales,
    OrderStatusDay,
    OrderStatusMonth,
    ProductSales,
    ProductSalesMonth,
)
from orders_read.queries.tables import reads

DAY, MONTH, YEAR = "day", "month", "year"
SALES_COLUMNS = ("orders", "cancellations", "revenue", "discount_total")


@dataclass(frozen=True)
class Piece:
    """Days ``first``..``last`` (inclusive) read at ``level`` and added with ``sign``."""

    level: str
    first: date
    last: date
    sign: int


@dataclass(frozen=True)
class Costs:
    """Rows a piece reads, in units of one day's rows: how big a month's (and a year's) rows are."""

    month: float
    year: float | None = None  # None: the report has no yearly table


# Totals and status counts: a month is one row (five for statuses), as a day is.
SMALL = Costs(month=1)
# Products: every day and month holds about every product sold, so a month costs a day's rows.
PRODUCTS = Costs(month=1.5)
# Customers: a month holds about a dozen days' customers, a year a little more (most buy again).
CUSTOMERS = Costs(month=12, year=15)


FIRST_DAY, LAST_DAY = date(2, 1, 1), date(9998, 12, 31)


def decompose(start: date, end: date, *, costs: Costs, today: date | None = None) -> list[Piece]:
    """Return signed pieces whose sum is exactly the days ``start``..``end`` (empty when start > end)."""
    # No order is placed in year 1 or 9999: leaving them out keeps the period arithmetic (a day
    # before a period, the period after it) inside Python's date range.
    start, end = max(start, FIRST_DAY), min(end, LAST_DAY)
    if start > end:
        return []
    today = today or timezone.now().date()
    levels = (YEAR, MONTH) if costs.year is not None else (MONTH,)
    _, pieces = _cover(start, end, levels, +1, costs, today)
    return _merged(pieces)


def _cover(start: date, end: date, levels: Sequence[str], sign: int, costs: Costs, today: date):
    if not levels:
        return _day_cost(start, end, today), [Piece(DAY, start, end, sign)]
    level, finer = levels[0], levels[1:]
    period_cost = costs.year if level == YEAR else costs.month
    total, pieces = 0.0, []
    for first, last in _periods(start, end, level):
        inside_first, inside_last = max(start, first), min(end, last)
        whole_cost = period_cost if first <= today else 0.0
        if (inside_first, inside_last) == (first, last):
            total += whole_cost
            pieces.append(Piece(level, first, last, sign))
            continue
        inner_cost, inner = _cover(inside_first, inside_last, finer, sign, costs, today)
        outer_cost, outer = whole_cost, [Piece(level, first, last, sign)]
        for gap_first, gap_last in ((first, inside_first - timedelta(days=1)), (inside_last + timedelta(days=1), last)):
            if gap_first <= gap_last:
                cost, gap = _cover(gap_first, gap_last, finer, -sign, costs, today)
                outer_cost += cost
                outer += gap
        chosen_cost, chosen = (inner_cost, inner) if inner_cost <= outer_cost else (outer_cost, outer)
        total += chosen_cost
        pieces += chosen
    return total, pieces


def _day_cost(start: date, end: date, today: date) -> float:
    """Days up to today each read one day's rows; later days hold none."""
    return max(0, (min(end, today) - start).days + 1)


def _periods(start: date, end: date, level: str):
    """Yield ``(first day, last day)`` of each month or year that meets ``start``..``end``."""
    first = start.replace(day=1) if level == MONTH else start.replace(month=1, day=1)
    while first <= end:
        following = _next_period(first, level)
        yield first, following - timedelta(days=1)
        first = following


def _next_period(first: date, level: str) -> date:
    if level == YEAR:
        return first.replace(year=first.year + 1)
    return first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Join adjacent day runs of the same sign, so each becomes one index range."""
    merged: list[Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.level, p.sign, p.first)):
        previous = merged[-1] if merged else None
        if (
            previous
            and piece.level == DAY == previous.level
            and piece.sign == previous.sign
            and piece.first == previous.last + timedelta(days=1)
        ):
            merged[-1] = Piece(DAY, previous.first, piece.last, piece.sign)
        else:
            merged.append(piece)
    return merged


@dataclass(frozen=True)
class Family:
    """The tables holding one report's rows at each level: ``{level: (model, period column)}``."""

    levels: dict[str, tuple[type, str]]

    @property
    def models(self) -> tuple[type, ...]:
        return tuple(model for model, _ in self.levels.values())

    def table(self, level: str) -> tuple[str, str]:
        """Return the table and the period column of ``level``."""
        model, period = self.levels[level]
        return model._meta.db_table, period


SALES = Family({DAY: (DailySales, "day"), MONTH: (MonthlySales, "month")})
STATUSES = Family({DAY: (OrderStatusDay, "day"), MONTH: (OrderStatusMonth, "month")})
PRODUCT_SALES = Family({DAY: (ProductSales, "day"), MONTH: (ProductSalesMonth, "month")})
CUSTOMER_SALES = Family(
    {DAY: (CustomerSales, "day"), MONTH: (CustomerSalesMonth, "month"), YEAR: (CustomerSalesYear, "year")}
)


def _signed_rows(
    family: Family, pieces: list[Piece], keys: Sequence[str], values: Sequence[str], *, only: str = ""
) -> tuple[str, list]:
    """Return a ``UNION ALL`` of the pieces' rows (``keys``, then each of ``values`` times its sign), and params.

    ``only``, when given, is a further condition (SQL without parameters) every row must meet.
    """
    ops = connections[read_alias()].ops
    selects, params = [], []
    groups: dict[tuple[str, int], list[Piece]] = {}
    for piece in pieces:
        groups.setdefault((piece.level, piece.sign), []).append(piece)
    for (level, sign), group in sorted(groups.items()):
        table, period = family.table(level)
        columns = [*keys, *(f"{'-' if sign < 0 else ''}{column} AS {column}" for column in values)]
        if level == DAY:
            where = " OR ".join([f"{period} BETWEEN %s AND %s"] * len(group))
            params += [ops.adapt_datefield_value(d) for piece in group for d in (piece.first, piece.last)]
        else:
            where = f"{period} IN ({', '.join(['%s'] * len(group))})"
            params += [ops.adapt_datefield_value(piece.first) for piece in group]
        if only:
            where = f"({where}) AND {only}"
        selects.append(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}")
    return " UNION ALL ".join(selects), params


def _fetch(sql: str, params: list) -> list[tuple]:
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@reads(*SALES.models)
def sales_totals(*, start: date, end: date, today: date | None = None) -> dict[str, int]:
    """Return ``orders``, ``cancellations``, ``revenue`` and ``discount_total`` of the range. One query."""
    pieces = decompose(start, end, costs=SMALL, today=today)
    if not pieces:
        return dict.fromkeys(SALES_COLUMNS, 0)
    rows, params = _signed_rows(SALES, pieces, (), SALES_COLUMNS)
    sums = ", ".join(f"COALESCE(SUM({column}), 0)" for column in SALES_COLUMNS)
    (row,) = _fetch(f"SELECT {sums} FROM ({rows}) AS pieces", params)
    return {column: int(value) for column, value in zip(SALES_COLUMNS, row, strict=True)}


@reads(*STATUSES.models)
def status_counts(*, start: date, end: date, today: date | None = None) -> dict[str, int]:
    """Return ``{status: orders}`` for every status (zeros included) of the orders placed in the range. One query."""
    counts = {status.value: 0 for status in OrderStatus}
    pieces = decompose(start, end, costs=SMALL, today=today)
    if pieces:
        rows, params = _signed_rows(STATUSES, pieces, ("status",), ("orders",))
        for status, orders in _fetch(f"SELECT status, SUM(orders) FROM ({rows}) AS pieces GROUP BY status", params):
            counts[status] = counts.get(status, 0) + int(orders)
    return counts


@reads(*PRODUCT_SALES.models)
def ranked_products(*, start: date, end: date, limit: int, today: date | None = None) -> list[dict[str, Any]]:
    """Return the products with the most line revenue in the range, best first (ties by sku). One query."""
    pieces = decompose(start, end, costs=PRODUCTS, today=today)
    if not pieces:
        return []
    rows, params = _signed_rows(PRODUCT_SALES, pieces, ("sku", "product_name"), ("units", "revenue"))
    sql = (
        f"SELECT sku, MAX(product_name), SUM(units), SUM(revenue) FROM ({rows}) AS pieces GROUP BY sku "
        "HAVING SUM(units) > 0 ORDER BY SUM(revenue) DESC, sku LIMIT %s"
    )
    return [
        {"sku": sku, "product_name": name, "units": int(units), "revenue": int(revenue)}
        for sku, name, units, revenue in _fetch(sql, [*params, _clamp(limit)])
    ]


# A customer ranking first reads this many of the best rows of each added piece (``ranked_customers``).
RANKING_DEPTH = 256


@reads(*CUSTOMER_SALES.models, CustomerStats)
def ranked_customers(*, start: date, end: date, limit: int, today: date | None = None) -> list[dict[str, Any]]:
    """Return the customers with the most revenue in the range, best first (ties by customer id).

    A threshold algorithm over the pieces of the range, so that a ranking reads a few hundred
    rows per piece, not a row per customer (ADR 0021). Each added piece (a year, a month, or a
    run of days summed per customer) is a *list* of customers by revenue. The first query reads
    the ``RANKING_DEPTH`` best of each list; those *candidates* get their exact totals over every
    piece, subtracted ones included. Any other customer has at most the last revenue read from
    each list (no revenue is negative), so at most their sum, the *bound*: when the ``limit``-th
    candidate has more, or no list was cut short, the ranking is exact. Otherwise the
    ``limit``-th candidate's total ``t`` is a floor for the winners, and a second query reads from
    each list every customer at or above its share of ``t`` (the list's last revenue read times
    ``t`` over the bound, rounded down): a customer below every share totals less than ``t``, so
    the winners are all among these. One query, two at most. The winners are joined to
    ``customer_stats`` for their names; a LEFT JOIN keeps a customer whose stats row is not
    projected yet (name "").
    """
    pieces = decompose(start, end, costs=CUSTOMERS, today=today)
    if not pieces:
        return []
    limit = _clamp(limit)
    rows, cuts = _ranked_candidates(pieces, limit, depth=RANKING_DEPTH)
    bound = sum(cut for cut in cuts if cut is not None)
    if any(cut is not None for cut in cuts) and not (len(rows) == limit and rows[-1][3] > bound):
        floor = int(rows[-1][3]) if len(rows) == limit else 0
        shares = [0 if cut is None or not bound else cut * floor // bound for cut in cuts]
        rows, _ = _ranked_candidates(pieces, limit, shares=shares)
    return [
        {"customer_id": customer_id, "name": name, "orders": int(orders), "revenue": int(revenue)}
        for customer_id, name, orders, revenue in rows
    ]


def _ranked_candidates(
    pieces: list[Piece], limit: int, *, depth: int | None = None, shares: Sequence[int] = ()
) -> tuple[list[tuple], list[int | None]]:
    """Rank the candidates read from each added piece: its ``depth`` best, or every one at or above its share.

    Return the ``limit`` best candidates with exact totals, and per list the last revenue read
    (None when the list had fewer than ``depth`` rows, so every one of its customers was read).
    """
    ops = connections[read_alias()].ops
    lists, params = [], []
    for piece in (piece for piece in pieces if piece.sign > 0):
        table, period = CUSTOMER_SALES.table(piece.level)
        if piece.level == DAY:
            rows = f"SELECT customer_id, SUM(revenue) AS revenue FROM {table} WHERE {period} BETWEEN %s AND %s"
            rows += " GROUP BY customer_id" + ("" if depth else " HAVING SUM(revenue) >= %s")
            params += [ops.adapt_datefield_value(piece.first), ops.adapt_datefield_value(piece.last)]
        else:
            rows = f"SELECT customer_id, revenue FROM {table} WHERE {period} = %s" + (
                "" if depth else " AND revenue >= %s"
            )
            params.append(ops.adapt_datefield_value(piece.first))
        if depth:
            rows += " ORDER BY 2 DESC LIMIT %s"
        params.append(depth or shares[len(lists)])
        lists.append(f"list_{len(lists)} AS ({rows})")
    names = [f"list_{index}" for index in range(len(lists))]
    signed, signed_params = _signed_rows(
        CUSTOMER_SALES, pieces, ("customer_id",), ("orders", "revenue"),
        only="customer_id IN (SELECT customer_id FROM candidates)",
    )  # fmt: skip
    cuts = ", ".join(f"(SELECT CASE WHEN COUNT(*) < %s THEN NULL ELSE MIN(revenue) END FROM {name})" for name in names)
    sql = f"""
        WITH {", ".join(lists)},
        candidates AS ({" UNION ".join(f"SELECT customer_id FROM {name}" for name in names)}),
        ranked AS (
            SELECT customer_id, SUM(orders) AS orders, SUM(revenue) AS revenue FROM ({signed}) AS pieces
            GROUP BY customer_id HAVING SUM(orders) > 0 ORDER BY SUM(revenue) DESC, customer_id LIMIT %s
        ),
        cuts AS (SELECT {cuts})
        SELECT ranked.customer_id, COALESCE(stats.name, ''), ranked.orders, ranked.revenue, cuts.*
        FROM cuts
        LEFT JOIN ranked ON 1 = 1
        LEFT JOIN {CustomerStats._meta.db_table} AS stats ON stats.customer_id = ranked.customer_id
        ORDER BY ranked.revenue DESC, ranked.customer_id
    """
    fetched = _fetch(sql, [*params, *signed_params, limit, *[depth or 0] * len(names)])
    rows = [row[:4] for row in fetched if row[0] is not None]
    return rows, [None if cut is None else int(cut) for cut in fetched[0][4:]]


@reads(*SALES.models)
def monthly_series(*, start: date, end: date) -> list[dict[str, Any]]:
    """Return one row per month meeting the range (its part inside the range), zeros included. One query.

    Rows hold ``day`` (the first day of the month inside the range), ``last_day``, and the
    ``daily_sales`` columns summed over those days: whole months from ``monthly_sales``, the
    partial months at the edges from their days.
    """
    if start > end:
        return []
    parts = [(max(start, first), min(end, last), first) for first, last in _periods(start, end, MONTH)]
    pieces = [
        Piece(MONTH, month, month, +1) if (first, last) == (month, _month_end(month)) else Piece(DAY, first, last, +1)
        for first, last, month in parts
    ]
    stored: dict[int, list[int]] = {}
    if pieces:
        ops = connections[read_alias()].ops
        selects, params = [], []
        for index, piece in enumerate(pieces):
            table, period = SALES.table(piece.level)
            sums = ", ".join(f"SUM({column})" for column in SALES_COLUMNS)
            selects.append(f"SELECT {index} AS part, {sums} FROM {table} WHERE {period} BETWEEN %s AND %s")
            params += [ops.adapt_datefield_value(piece.first), ops.adapt_datefield_value(piece.last)]
        for part, *values in _fetch(" UNION ALL ".join(selects), params):
            stored[int(part)] = [int(value or 0) for value in values]
    series = []
    for index, (first, last, _) in enumerate(parts):
        values = stored.get(index, [0] * len(SALES_COLUMNS))
        series.append({"day": first, "last_day": last, **dict(zip(SALES_COLUMNS, values, strict=True))})
    return series


def _month_end(month: date) -> date:
    return _next_period(month, MONTH) - timedelta(days=1)


@reads(MonthlySales, DailySales)
def first_sales_day() -> date | None:
    """Return the first UTC day with a placed order, or None when there is none. One query (first monthly row)."""
    rows = _fetch(f"SELECT MIN(month) FROM {MonthlySales._meta.db_table}", [])
    first_month = rows[0][0] if rows else None
    if first_month is None:
        return None
    first_month = first_month if isinstance(first_month, date) else date.fromisoformat(first_month)
    ops = connections[read_alias()].ops
    rows = _fetch(
        f"SELECT MIN(day) FROM {DailySales._meta.db_table} WHERE day BETWEEN %s AND %s",
        [ops.adapt_datefield_value(first_month), ops.adapt_datefield_value(_month_end(first_month))],
    )
    day = rows[0][0]
    if day is None:
        return first_month
    return day if isinstance(day, date) else date.fromisoformat(day)


def _clamp(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))
