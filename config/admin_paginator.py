"""A paginator for admin lists over very large tables: estimate the count instead of counting.

``COUNT(*)`` over a million rows costs a full scan on every page view. On PostgreSQL the planner
already knows roughly how many rows a query returns (``EXPLAIN``); when that estimate is large,
it is shown instead (page numbers stay right to within the estimate's error, and the list
itself is exact: it is an indexed ``LIMIT``/``OFFSET`` slice). Small results are counted
exactly, and no list offers more than ``MAX_PAGES`` pages, so no page is a deep OFFSET scan.
Admins using it set ``show_full_result_count = False`` too, so the unfiltered total is never
counted either.
"""

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_BELOW = 10_000
# Deeper pages are an OFFSET that reads and discards every row before them, slower the deeper
# (docs/admin.md). Nobody pages that far; filters and search narrow a list instead.
MAX_PAGES = 100


class EstimatedCountPaginator(Paginator):
    @cached_property
    def num_pages(self) -> int:
        """Offer at most ``MAX_PAGES`` pages; a deeper page number is refused like one past the end."""
        return min(super().num_pages, MAX_PAGES)

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except EmptyResultSet:  # a selection that cannot match (``none()``) has no SQL to explain
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        estimate = int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
        return estimate if estimate >= EXACT_BELOW else super().count
