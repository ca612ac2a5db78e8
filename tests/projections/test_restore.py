"""Restore-safe positions (property 11): a dump restored into another cluster loses no event.

The test database is dumped and restored into a fresh PostgreSQL cluster of its own (whose
transaction ids restart low, or, with ``pg_resetwal -e``, start far higher), Django is pointed
at it, and orders are placed there. Consumers must report the restore rather than "up to date",
then apply every new event exactly once, and ``verify_projections`` must find nothing.
"""

import contextlib

import pytest
from django.db import connection, connections

from bench.clusters import ScratchCluster, copy_database
from orders_read.models import OrderSummary
from orders_write.services import LineInput, order_confirm, order_place
from projections.models import Checkpoint
from projections.runtime.loop import drain_all
from projections.runtime.status import consumer_health
from projections.runtime.verify import verify

pytestmark = pytest.mark.django_db(transaction=True)


def _url(settings: dict) -> str:
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@contextlib.contextmanager
def restored_elsewhere(*, epoch: int):
    """Dump the test database into a fresh cluster and point every connection at it meanwhile."""
    cluster = ScratchCluster(epoch=epoch).start()
    saved = {alias: dict(connections[alias].settings_dict) for alias in connections}
    try:
        connections.close_all()
        copy_database(_url(saved["default"]), cluster, saved["default"]["NAME"])
        for alias in connections:
            connections[alias].settings_dict.update(HOST="127.0.0.1", PORT=str(cluster.port))
        yield cluster
    finally:
        connections.close_all()
        for alias, settings in saved.items():
            connections[alias].settings_dict.clear()
            connections[alias].settings_dict.update(settings)
        cluster.stop()


def current_txid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def burn_transaction_ids(at_least: int) -> None:
    """Make sure the source cluster's ids are past what a fresh cluster reaches (a scratch source is new too)."""
    with connection.cursor() as cursor:
        while current_txid() < at_least:
            cursor.execute("SELECT pg_current_xact_id() FROM generate_series(1, 1)")


def place(customer: int, sku: str, count: int) -> list[int]:
    placed = [order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id for _ in range(count)]
    order_confirm(order_id=placed[0])
    return placed


@pytest.mark.parametrize("epoch", [0, 3], ids=["ids-restart-lower", "ids-restart-higher"])
def test_orders_placed_after_a_restore_into_another_cluster_are_projected_once(customer, sku, epoch, admin_client):
    burn_transaction_ids(20_000)
    before = place(customer, sku, 12)
    drain_all()
    source_txid = Checkpoint.objects.get(projection="order_views").last_txid
    assert verify("order_views") == [] and verify("sales") == []

    with restored_elsewhere(epoch=epoch):
        now_txid = current_txid()
        assert (now_txid < source_txid) if epoch == 0 else (now_txid > source_txid)  # the drill's premise
        after = place(customer, sku, 8)

        states = {row.name: row for row in consumer_health()}
        assert {row.state for row in states.values()} == {"restored"}, states
        assert all(row.lag_events >= 9 for row in states.values()), states  # 8 placed + 1 confirmed
        ready = admin_client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["timeline"]["ok"] is False, ready.json()

        drain_all()

        states = {row.name: row for row in consumer_health()}
        assert {(row.state, row.lag_events) for row in states.values()} == {("idle", 0)}, states
        assert all(row.timeline == row.current_timeline > 1 for row in states.values())
        assert admin_client.get("/health/ready").json()["checks"]["timeline"] == {"ok": True, "restored": []}
        summaries = list(OrderSummary.objects.filter(customer_id=customer).values_list("order_id", "version"))
        assert sorted(summaries) == sorted([(before[0], 2), *((o, 1) for o in before[1:]), (after[0], 2)]
                                           + [(o, 1) for o in after[1:]])  # fmt: skip
        assert verify("order_views") == [] and verify("sales") == []

        more = place(customer, sku, 3)  # and the new timeline keeps flowing
        drain_all()
        assert OrderSummary.objects.filter(order_id__in=more).count() == 3
