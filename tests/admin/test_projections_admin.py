"""The projection health page and its rebuild button.

Real transactions: the drain reads only committed events older than every open transaction,
so these tests commit and empty the read tables themselves (Django's flush skips them).
"""

import itertools
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf
from django_q.models import OrmQ

from config.rights import MANAGE_PROJECTIONS, VIEW_REPORTS
from orders_write.services import LineInput, order_place
from projections.runtime.loop import drain
from projections.runtime.registry import consumers, projections
from projections.runtime.status import consumer_health
from projections.tasks import rebuild_task

pytestmark = pytest.mark.django_db(transaction=True)

HEALTH = "/admin/projections/projectionhealth/"
READ_TABLES = sorted({table for projection in projections().values() for table in projection.tables()})
_usernames = itertools.count(1)


@pytest.fixture(autouse=True)
def empty_read_tables():
    with connection.cursor() as cursor:
        for table in READ_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    cache.clear()
    yield
    with connection.cursor() as cursor:
        for table in READ_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}__shadow")


def login(*rights: str, superuser: bool = False, enforce_csrf_checks: bool = False) -> Client:
    user = get_user_model().objects.create_user(
        username=f"staff{next(_usernames)}", is_staff=True, is_superuser=superuser
    )
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    return client


def place(customer: int, sku: str) -> int:
    return order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id


def drain_fully(name: str, *, within: float = 30.0) -> None:
    """Drain until nothing is left: the drain waits while any transaction on the cluster is older."""
    deadline = time.monotonic() + within
    while True:
        drain(name)
        (row,) = [row for row in consumer_health() if row.name == name]
        if row.lag_events == 0:
            return
        assert time.monotonic() < deadline, f"{name} still lags {row['lag_events']} event(s)"
        time.sleep(0.2)


def states(client: Client) -> dict[str, str]:
    response = client.get(HEALTH)
    assert response.status_code == 200
    return {row["name"]: row["state"] for row in response.context["projections"]}


def test_health_shows_every_projection_and_its_state(customer, sku):
    viewer = login(VIEW_REPORTS)
    place(customer, sku)
    drain_fully("order_views")

    never_drained = {"sales": "stuck", "reports": "stuck", "webhooks": "stuck"}  # no heartbeat yet
    assert states(viewer) == {"order_views": "idle", **never_drained}
    page = viewer.get(HEALTH).content.decode()
    for element in ('id="projection-health"', 'id="projection-order_views"', 'data-state="idle"'):
        assert element in page
    assert 'id="projection-sales-state"' in page and ">Stuck<" in page
    assert 'id="outbox-head"' in page

    place(customer, sku)  # order_views has a fresh heartbeat and one event to go
    assert states(viewer)["order_views"] == "catching_up"


def test_health_is_on_the_admin_index_for_report_viewers_only():
    viewer = login(VIEW_REPORTS)
    assert HEALTH.encode() in viewer.get("/admin/").content
    staff = login()
    assert HEALTH.encode() not in staff.get("/admin/").content
    assert staff.get(HEALTH).status_code == 403


def test_the_health_page_reads_no_write_side_table_and_a_fixed_number_of_queries(customer, sku):
    viewer = login(VIEW_REPORTS)
    place(customer, sku)
    viewer.get(HEALTH)  # warm up: the session and permission lookups

    with CaptureQueriesContext(connection) as captured:
        assert viewer.get(HEALTH).status_code == 200
    sqls = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in sqls if "orders_write_" in sql], "only the outbox, for the head and lag"
    for _ in range(20):
        place(customer, sku)
    with CaptureQueriesContext(connection) as again:
        viewer.get(HEALTH)
    assert len(again.captured_queries) == len(sqls) <= 5 + len(consumers()) + 4


def test_rebuild_asks_for_confirmation_then_enqueues_a_task(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    manager = login(VIEW_REPORTS, MANAGE_PROJECTIONS)
    OrmQ.objects.all().delete()

    health = manager.get(HEALTH).content.decode()
    assert 'id="rebuild-order_views"' in health
    confirm = manager.get(f"{HEALTH}rebuild/order_views/")
    assert confirm.status_code == 200 and b'id="confirm-rebuild"' in confirm.content
    assert OrmQ.objects.count() == 0, "a GET enqueues nothing"

    done = manager.post(f"{HEALTH}rebuild/order_views/", follow=True)

    assert done.redirect_chain[-1][0] == HEALTH
    assert "Rebuild of order_views enqueued" in done.content.decode()
    (queued,) = OrmQ.objects.all()
    assert (queued.task["func"], queued.task["args"]) == ("projections.tasks.rebuild_task", ("order_views",))


def test_rebuild_needs_the_csrf_token_and_a_known_projection(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    OrmQ.objects.all().delete()
    manager = login(superuser=True, enforce_csrf_checks=True)
    assert manager.post(f"{HEALTH}rebuild/order_views/").status_code == 403
    assert manager.get(f"{HEALTH}rebuild/nonsense/").status_code == 404
    assert OrmQ.objects.count() == 0


def test_report_viewers_cannot_rebuild(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    OrmQ.objects.all().delete()
    viewer = login(VIEW_REPORTS)
    assert b'id="rebuild-' not in viewer.get(HEALTH).content
    assert viewer.get(f"{HEALTH}rebuild/order_views/").status_code == 403
    assert viewer.post(f"{HEALTH}rebuild/order_views/").status_code == 403
    assert OrmQ.objects.count() == 0


def test_the_rebuild_task_rebuilds_from_the_log(customer, sku):
    order_id = place(customer, sku)
    drain_fully("order_views")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM order_summary WHERE order_id = %s", [order_id])  # drift, or a lost table

    result = rebuild_task("order_views")

    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM order_summary WHERE order_id = %s", [order_id])
        assert cursor.fetchone() == ("PENDING",)
    assert result["events"] >= 2  # the customer's registration and the order's placement
