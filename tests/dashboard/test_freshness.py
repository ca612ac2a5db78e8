"""The page's "data as of" follows every projection behind the tables it reads.

The tables come from the selectors the page calls (``@reads``), so a consumer the page depends
on cannot be left out of its freshness: a lagging ``reports`` consumer (the rollups behind the
totals, status breakdown and rankings) makes the page say its data is still being applied.
"""

import re
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connections
from django.test.utils import CaptureQueriesContext

from config.databases import read_alias
from config.limits import MAX_RANGE_DAYS
from config.rights import VIEW_REPORTS
from orders_read.dashboard.figures import dashboard_figures
from orders_read.dashboard.range import DayRange, today_utc
from orders_read.queries.tables import reads, tables_read
from orders_write.services import LineInput, order_place
from projections.runtime.loop import drain
from projections.runtime.registry import consumers
from projections.runtime.watermark import watermark
from tests.dashboard.conftest import logged_in, make_user


def _drain_only(names: tuple[str, ...], timeout: float = 30.0) -> int:
    """Drain ``names`` to the outbox head (other suites' open transactions may hold a pass short)."""
    deadline = time.monotonic() + timeout
    while True:
        for name in names:
            drain(name)
        head = watermark(())
        if watermark(names) >= head:
            return head
        if time.monotonic() > deadline:
            pytest.fail(f"{names} did not reach outbox head {head} within {timeout} s")
        time.sleep(0.1)


def test_a_lagging_reports_consumer_makes_the_page_not_up_to_date(projected, make_customer, make_product):
    customer = make_customer("Ada Lovelace")
    cup = make_product(price=1000, name="Cup", sku="CUP")
    order_place(customer_id=customer, lines=[LineInput(sku=cup, quantity=1)])
    others = tuple(name for name in consumers() if name != "reports")
    head = _drain_only(others)  # order_summary, daily_sales, ... are current; the rollups are not
    assert watermark(("reports",)) < head

    response = logged_in(make_user(VIEW_REPORTS, staff=True)).get("/dashboard/")

    freshness = response.context["freshness"]
    assert not freshness.current
    assert freshness.lag_events >= 1
    assert freshness.position == watermark(("reports",)) < head
    page = response.content.decode()
    assert "data-as-of--lagging" in page
    assert "still being applied" in page


# A table named after FROM or JOIN in SQL the ORM or the rollups write (quoted or not).
_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def _read_tables_queried(day_range: DayRange) -> set[str]:
    known = {model._meta.db_table for model in apps.get_app_config("orders_read").get_models()}
    with CaptureQueriesContext(connections[read_alias()]) as captured:
        dashboard_figures(day_range)
    return {table for query in captured.captured_queries for table in _TABLE.findall(query["sql"])} & known


def test_the_declared_tables_are_the_tables_the_page_queries(read_tables):
    today = today_utc()
    by_day = _read_tables_queried(DayRange(today - timedelta(days=40), today))
    by_month = _read_tables_queried(DayRange(today - timedelta(days=MAX_RANGE_DAYS + 400), today))
    declared = {model._meta.db_table for model in dashboard_figures.reads}

    assert by_day <= declared
    assert by_month <= declared
    assert by_day | by_month == declared
    assert {"order_status_day", "monthly_sales", "customer_sales_month"} <= declared  # the reports rollups


def test_a_selector_that_does_not_say_what_it_reads_is_refused():
    def unmarked() -> None:
        """A selector without ``@reads``."""

    with pytest.raises(TypeError, match="marked with @reads"):
        reads(unmarked)
    with pytest.raises(TypeError, match="marked with @reads"):
        tables_read(dashboard_figures, unmarked)
