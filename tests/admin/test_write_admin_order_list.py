"""The order list: actions run one service call per order and report each; the page stays cheap.

The query count of the list must not grow with the number of orders (the customer comes in
the same query), and no filter, search or sort may need more than the indexes it was built on.
"""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.rights import MANAGE_ORDERS
from orders_write.services import order_confirm, order_ship
from tests.admin.test_write_admin_support import actor, log_in, messages_of, outbox

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders_write/order/"


def act(client, action: str, order_ids: list[int], **fields):
    return client.post(ORDERS, {"action": action, "_selected_action": order_ids, **fields})


def test_confirm_action_reports_each_order(client, make_order):
    staff = log_in(client, MANAGE_ORDERS)
    first, second, done = make_order(), make_order(), make_order()
    order_confirm(order_id=done.order_id)
    before = len(outbox())
    response = act(client, "confirm_orders", [first.order_id, second.order_id, done.order_id], index="0")
    assert response.status_code == 302
    notes = messages_of(response)
    assert f"Confirmed: Order {first.order_id}, Order {second.order_id}." in notes or (
        f"Confirmed: Order {second.order_id}, Order {first.order_id}." in notes
    )
    assert f"Order {done.order_id}: Cannot confirm an order that is CONFIRMED. Nothing was saved." in notes
    assert outbox()[before:] == [("OrderConfirmed", actor(staff))] * 2


def test_deliver_action_delivers_shipped_orders(client, make_order):
    staff = log_in(client, MANAGE_ORDERS)
    placed = make_order()
    order_confirm(order_id=placed.order_id)
    order_ship(order_id=placed.order_id, tracking_number="T-1")
    response = act(client, "deliver_orders", [placed.order_id], index="0")
    assert f"Marked as delivered: Order {placed.order_id}." in messages_of(response)
    assert outbox()[-1] == ("OrderDelivered", actor(staff))


def test_ship_action_asks_for_a_tracking_number_per_order_then_ships(client, make_order):
    staff = log_in(client, MANAGE_ORDERS)
    placed = make_order()
    order_confirm(order_id=placed.order_id)
    before = outbox()
    asked = act(client, "ship_orders", [placed.order_id], index="0")
    assert asked.status_code == 200
    content = asked.content.decode()
    assert f'<label for="id_tracking_number_{placed.order_id}" class="visually-hidden">' in content
    assert 'name="apply" value="yes" id="ship_orders-apply"' in content
    assert outbox() == before  # asking wrote nothing
    empty = act(client, "ship_orders", [placed.order_id], apply="yes", **{f"version_{placed.order_id}": "2"})
    assert empty.status_code == 200 and empty.context["form"].errors
    shipped = act(
        client,
        "ship_orders",
        [placed.order_id],
        apply="yes",
        **{f"tracking_number_{placed.order_id}": "TRK-9", f"version_{placed.order_id}": "2"},
    )
    assert shipped.status_code == 302
    assert f"Shipped: Order {placed.order_id}." in messages_of(shipped)
    assert outbox()[len(before) :] == [("OrderShipped", actor(staff))]


def test_cancel_action_needs_a_reason_and_refuses_orders_changed_since_the_page(client, make_order):
    staff = log_in(client, MANAGE_ORDERS)
    fresh, changed = make_order(), make_order()
    ids = [fresh.order_id, changed.order_id]
    asked = act(client, "cancel_orders", ids, index="0")
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    versions = {f"version_{order_id}": "1" for order_id in ids}
    assert act(client, "cancel_orders", ids, apply="yes", reason="", **versions).context["form"].errors["reason"]
    order_confirm(order_id=changed.order_id)  # after the page was shown: now version 2
    before = len(outbox())
    response = act(client, "cancel_orders", ids, apply="yes", reason="duplicate order", **versions)
    notes = messages_of(response)
    assert f"Cancelled: Order {fresh.order_id}." in notes
    assert any(f"Order {changed.order_id}: Someone changed this order" in note for note in notes)
    assert outbox()[before:] == [("OrderCancelled", actor(staff))]


def test_actions_refuse_more_orders_than_one_go_allows(client, make_order, monkeypatch):
    from orders_write.admin import order_actions

    monkeypatch.setattr(order_actions, "MAX_ROWS_PER_ADMIN_ACTION", 1)
    log_in(client, MANAGE_ORDERS)
    ids = [make_order().order_id, make_order().order_id]
    before = outbox()
    response = act(client, "confirm_orders", ids, index="0")
    assert "Select at most 1 orders for this action; nothing was changed." in messages_of(response)
    assert outbox() == before


def test_order_actions_are_offered_only_with_the_orders_right(client, make_order):
    make_order()
    log_in(client, MANAGE_ORDERS)
    choices = dict(client.get(ORDERS).context["action_form"].fields["action"].choices)
    assert {"confirm_orders", "ship_orders", "deliver_orders", "cancel_orders"} <= set(choices)
    assert "delete_selected" not in choices


def list_queries(client, url: str = ORDERS) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response
    return [query["sql"] for query in captured.captured_queries]


def listing_query(queries: list[str]) -> str:
    """Return the query that reads the page's orders (the one ordered for the list)."""
    (listing,) = [sql for sql in queries if sql.startswith('SELECT "orders_write_order"."id"') and "ORDER BY" in sql]
    return listing


def test_the_list_runs_the_same_few_queries_for_3_or_30_orders(client, make_order, make_customer):
    log_in(client, superuser=True)
    for _ in range(3):
        make_order(customer_id=make_customer())
    few = list_queries(client)
    for _ in range(27):
        make_order(customer_id=make_customer())
    many = list_queries(client)
    assert len(many) == len(few) <= 6, many
    assert 'INNER JOIN "orders_write_customer"' in listing_query(many)  # the customer comes in the same query


@pytest.mark.parametrize(
    "query",
    [
        "?status__exact=PENDING",
        "?" + urlencode({"placed_at__gte": "2020-01-01 00:00:00+00:00", "placed_at__lt": "2100-01-01 00:00:00+00:00"}),
        "?q=1",
        "?q=ada",
        "?o=2",
    ],
)
def test_filters_search_and_sorting_stay_bounded(client, make_order, query):
    log_in(client, superuser=True)
    for _ in range(5):
        make_order()
    assert len(list_queries(client, ORDERS + query)) <= 7


def test_search_finds_an_order_by_number_and_by_customer_email(client, make_order, make_customer):
    log_in(client, superuser=True)
    wanted = make_order(customer_id=make_customer(name="Wanted Person"))
    make_order(customer_id=make_customer(name="Someone Else"))
    by_number = client.get(f"{ORDERS}?q={wanted.order_id}").context["cl"].result_list
    assert [order.pk for order in by_number] == [wanted.order_id]
    email = by_number[0].customer.email
    by_email = client.get(f"{ORDERS}?q={email.upper()}").context["cl"].result_list
    assert [order.pk for order in by_email] == [wanted.order_id]
    by_name = client.get(f"{ORDERS}?q=wanted").context["cl"].result_list
    assert [order.pk for order in by_name] == [wanted.order_id]


def test_the_list_sorts_only_by_an_indexed_column(client, make_order):
    log_in(client, superuser=True)
    make_order()
    total_column = client.get(ORDERS).context["cl"].list_display.index("total_display")
    sql = listing_query(list_queries(client, f"{ORDERS}?o={total_column}"))
    assert sql.split("ORDER BY")[1].split("LIMIT")[0].strip() == '"orders_write_order"."id" DESC'


def test_a_crafted_lookup_that_would_scan_the_table_is_refused(client, make_order):
    log_in(client, superuser=True)
    make_order()
    assert client.get(f"{ORDERS}?total__gt=0").status_code == 400
    assert client.get(f"{ORDERS}?customer__name__icontains=a").status_code == 400
    assert client.get(f"{ORDERS}?customer__id__exact=1").status_code == 200


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("?status__exact=CONFIRMED", "order_status_id"),
        (
            "?"
            + urlencode({"placed_at__gte": "2020-01-01 00:00:00+00:00", "placed_at__lt": "2020-01-02 00:00:00+00:00"}),
            "order_placed_at_id",
        ),
    ],
)
def test_each_filter_is_served_by_its_index(client, make_order, query, index):
    """The planner would scan a tiny table anyway; with scans priced out, the index must serve the page."""
    log_in(client, superuser=True)
    make_order()
    sql = listing_query(list_queries(client, ORDERS + query))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
