"""The outbox browser: read only, newest first, found by aggregate, type, time or correlation.

Events are recorded through the domain services. The index tests insert many outbox rows in
one SQL statement instead, as only volume makes the planner's choice meaningful.
"""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.rights import VIEW_REPORTS
from orders_write.models import OutboxEvent
from orders_write.services import LineInput, order_confirm, order_place

pytestmark = pytest.mark.django_db

OUTBOX = "/admin/orders_write/outboxevent/"


@pytest.fixture
def viewer() -> Client:
    user = get_user_model().objects.create_user(username="viewer", is_staff=True)
    app_label, codename = VIEW_REPORTS.split(".")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def order_id(customer, sku) -> int:
    placed = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=2)])
    order_confirm(order_id=placed.order_id)
    return placed.order_id


def listed(client: Client, **params) -> list[tuple[str, int, str]]:
    response = client.get(OUTBOX, params)
    assert response.status_code == 200, response.status_code
    return [
        (event.aggregate_type, event.aggregate_id, event.event_type) for event in response.context["cl"].result_list
    ]


def test_events_are_listed_newest_first(viewer, order_id):
    response = viewer.get(OUTBOX)
    positions = [event.position for event in response.context["cl"].result_list]
    assert positions == sorted(OutboxEvent.objects.values_list("position", flat=True), reverse=True)


def test_an_orders_events_are_found_by_its_number(viewer, order_id):
    assert listed(viewer, q=str(order_id), aggregate_type="order") == [
        ("order", order_id, "OrderConfirmed"),
        ("order", order_id, "OrderPlaced"),
    ]
    assert ("order", order_id, "OrderPlaced") in listed(viewer, q=str(order_id))
    assert listed(viewer, q="not a number") == []


def test_events_filter_by_type_and_time(viewer, order_id):
    assert listed(viewer, event_type="OrderPlaced") == [("order", order_id, "OrderPlaced")]
    today = timezone.now().date()
    assert len(listed(viewer, occurred_from=today.isoformat(), occurred_to=today.isoformat())) == 4
    yesterday = (today - timedelta(days=1)).isoformat()
    assert listed(viewer, occurred_to=yesterday) == []
    assert viewer.get(OUTBOX, {"occurred_from": "yesterday"}).status_code == 302, "a bad date is refused (?e=1)"


def test_one_requests_events_are_found_by_correlation_id(viewer, order_id):
    placed = OutboxEvent.objects.get(event_type="OrderPlaced")
    assert listed(viewer, q=str(placed.correlation_id)) == [("order", order_id, "OrderPlaced")]


def test_an_events_page_shows_its_payload_pretty_printed_and_nothing_can_change(viewer, order_id):
    event = OutboxEvent.objects.get(event_type="OrderPlaced")
    before = list(OutboxEvent.objects.values())

    page = viewer.get(f"{OUTBOX}{event.position}/change/")

    assert page.status_code == 200
    content = page.content.decode()
    assert 'id="outbox-payload"' in content
    assert json.dumps(event.payload, indent=2, sort_keys=True).split("\n")[1].replace('"', "&quot;") in content
    assert 'name="_save"' not in content
    assert viewer.get(f"{OUTBOX}add/").status_code == 403
    assert viewer.post(f"{OUTBOX}add/", {}).status_code == 403
    assert viewer.post(f"{OUTBOX}{event.position}/change/", {"event_type": "Forged"}).status_code == 403
    assert viewer.post(f"{OUTBOX}{event.position}/delete/", {"post": "yes"}).status_code == 403
    assert list(OutboxEvent.objects.values()) == before


def test_staff_without_the_report_right_cannot_browse_the_outbox(order_id):
    user = get_user_model().objects.create_user(username="staff", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(OUTBOX).status_code == 403


def test_ad_hoc_lookups_are_refused(viewer, order_id):
    assert viewer.get(OUTBOX, {"payload__icontains": "x"}).status_code == 400


def test_the_browser_reads_only_the_outbox_in_a_fixed_number_of_queries(viewer, customer, sku, order_id):
    def sqls() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get(OUTBOX, {"aggregate_type": "order", "q": str(order_id)}).status_code == 200
            assert viewer.get(OUTBOX, {"event_type": "OrderPlaced"}).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    few = sqls()
    for _ in range(30):
        order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    many = sqls()
    assert len(few) == len(many) <= 2 * 8
    assert not [sql for sql in many if "orders_write_" in sql]
    assert not [sql for sql in many if "outbox_event" in sql and '"payload"' in sql], "lists leave the payload out"


@pytest.fixture
def big_outbox():
    """50,000 events over 100 days, 3 aggregate types, 10 event types."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO outbox_event (event_id, aggregate_type, aggregate_id, aggregate_version, event_type,
                                      schema_version, payload, occurred_at, correlation_id, actor)
            SELECT gen_random_uuid(), (ARRAY['order', 'customer', 'product'])[1 + n % 3], n, 1,
                   (ARRAY['OrderPlaced', 'OrderConfirmed', 'OrderShipped', 'OrderDelivered', 'OrderCancelled',
                          'OrderLineAdded', 'CustomerRegistered', 'CustomerRenamed', 'ProductAdded',
                          'ProductRepriced'])[1 + n % 10],
                   1, '{}'::jsonb, now() - (n || ' minutes')::interval * 3, gen_random_uuid(), 'system'
            FROM generate_series(1, 50000) AS n
            """
        )
        cursor.execute("ANALYZE outbox_event")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "4242"},
        {"q": "4242", "aggregate_type": "order"},
        {"occurred_from": "2000-01-01", "occurred_to": "2000-01-02"},
        {"occurred_from": "today", "occurred_to": "today"},
        {"event_type": "OrderPlaced", "occurred_from": "today"},
    ],
)
def test_searches_and_time_filters_use_an_outbox_index(viewer, big_outbox, params):
    today = timezone.now().date().isoformat()
    params = {name: today if value == "today" else value for name, value in params.items()}
    with CaptureQueriesContext(connection) as captured:
        assert viewer.get(OUTBOX, params).status_code == 200
    selects = [
        q["sql"] for q in captured.captured_queries if 'FROM "outbox_event"' in q["sql"] and "EXPLAIN" not in q["sql"]
    ]
    assert selects
    for sql in selects:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Seq Scan" not in plan, plan
