"""Keyset pagination of the order list: opaque cursors, whole pages, no duplicates, no gaps."""

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from orders_read.queries import InvalidCursor, decode_cursor, encode_cursor, order_list
from tests.read.rows import NOON, add_order, add_orders, order_summary


def _newest_first(rows):
    return [row.order_id for row in sorted(rows, key=lambda row: (row.placed_at, row.order_id), reverse=True)]


def _walk(django_assert_num_queries, **filters):
    """Follow cursors to the end; return the pages of order ids, checking one query per page."""
    pages, cursor = [], None
    while True:
        with django_assert_num_queries(1):
            rows, cursor = order_list(cursor=cursor, **filters)
        pages.append([row["order_id"] for row in rows])
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


def test_a_cursor_round_trips_microseconds_and_offsets():
    moments = [
        datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2024, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
    ]
    for placed_at in moments:
        cursor = encode_cursor(placed_at=placed_at, order_id=42)
        assert decode_cursor(cursor) == (placed_at, 42)
        assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor


def test_a_naive_time_cannot_become_a_cursor():
    with pytest.raises(ValueError, match="timezone-aware"):
        encode_cursor(placed_at=datetime(2024, 3, 1, 12), order_id=1)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "é",
        "AAAA*",
        _b64("no separator here"),
        _b64("2024-03-01T12:00:00+00:00|"),
        _b64("2024-03-01T12:00:00+00:00|abc"),
        _b64("2024-03-01T12:00:00+00:00|-5"),
        _b64("2024-03-01T12:00:00+00:00|1|2"),
        _b64("2024-03-01T12:00:00+00:00|99999999999999999999"),
        _b64("2024-03-01T12:00:00|5"),
        _b64("yesterday|5"),
        _b64("|5"),
        base64.urlsafe_b64encode(b"\xff\xfe|1").decode(),
    ],
)
@pytest.mark.django_db
def test_a_malformed_cursor_is_refused_before_any_query(cursor, django_assert_num_queries):
    with pytest.raises(InvalidCursor), django_assert_num_queries(0):
        order_list(cursor=cursor)
    assert issubclass(InvalidCursor, ValueError)


@pytest.mark.django_db
def test_pages_cover_every_order_exactly_once_even_when_placed_at_ties(django_assert_num_queries):
    # 23 orders in runs of equal placed_at (sizes 1, 4, 7, 3, 8), so ties straddle page edges.
    moments = [NOON + timedelta(minutes=run) for run, size in enumerate((1, 4, 7, 3, 8)) for _ in range(size)]
    rows = add_orders(*(order_summary(placed_at=moment) for moment in moments))

    pages = _walk(django_assert_num_queries, limit=5)

    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [order_id for page in pages for order_id in page] == _newest_first(rows)


@pytest.mark.django_db
def test_an_exact_multiple_of_the_limit_ends_without_an_empty_page(django_assert_num_queries):
    add_orders(*(order_summary(placed_at=NOON + timedelta(seconds=i)) for i in range(10)))
    assert [len(page) for page in _walk(django_assert_num_queries, limit=5)] == [5, 5]


@pytest.mark.django_db
def test_filters_hold_on_every_page(django_assert_num_queries):
    rows = add_orders(
        *(
            order_summary(customer_id=i % 2, status="CONFIRMED" if i % 3 else "PENDING", placed_at=NOON + timedelta(i))
            for i in range(30)
        )
    )
    since = NOON + timedelta(days=2)
    pages = _walk(django_assert_num_queries, limit=3, customer_id=1, status="CONFIRMED", placed_after=since)

    wanted = [row for row in rows if row.customer_id == 1 and row.status == "CONFIRMED" and row.placed_at >= since]
    assert [order_id for page in pages for order_id in page] == _newest_first(wanted)
    assert len(wanted) == 9 and len(pages) == 3


@pytest.mark.django_db
def test_orders_placed_while_paging_neither_shift_nor_repeat_later_pages():
    rows = add_orders(*(order_summary(placed_at=NOON + timedelta(minutes=i)) for i in range(6)))
    first, cursor = order_list(limit=3)

    add_order(placed_at=NOON + timedelta(days=1))  # newer than everything: belongs before page one
    second, cursor = order_list(limit=3, cursor=cursor)

    assert [row["order_id"] for row in first + second] == _newest_first(rows)
    assert cursor is None


@pytest.mark.django_db
@pytest.mark.parametrize(("asked", "served"), [(0, 1), (-1, 1), (100, 100), (500, 100)])
def test_the_page_size_is_clamped_to_1_through_100(asked, served):
    add_orders(*(order_summary(placed_at=NOON + timedelta(seconds=i)) for i in range(120)))
    rows, cursor = order_list(limit=asked)
    assert len(rows) == served
    assert cursor is not None


@pytest.mark.django_db
def test_the_next_cursor_names_the_last_row_of_the_page():
    rows = add_orders(*(order_summary(placed_at=NOON + timedelta(seconds=i)) for i in range(3)))
    page, cursor = order_list(limit=2)
    assert decode_cursor(cursor) == (rows[1].placed_at, rows[1].order_id)
    assert page[-1]["order_id"] == rows[1].order_id
