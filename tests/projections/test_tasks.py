"""The worker wiring: a committed command nudges a drain, nudges are debounced, a sweep exists."""

from dataclasses import replace

from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from orders_write.services import LineInput, order_place
from projections import tasks
from projections.runtime.status import State, consumer_health
from projections.tasks import PENDING_KEY, SWEEP_SCHEDULE_NAME, drain_task


def summary_exists(order_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone() is not None


def test_a_committed_order_is_projected_at_once_with_the_worker_in_sync_mode(monkeypatch, customer, sku):
    monkeypatch.setattr(Conf, "SYNC", True)
    cache.delete(PENDING_KEY)
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    assert summary_exists(order_id)


def test_a_burst_of_commands_enqueues_one_drain_until_it_starts(monkeypatch, customer, sku):
    monkeypatch.setattr(Conf, "SYNC", False)
    cache.delete(PENDING_KEY)
    OrmQ.objects.all().delete()
    for _ in range(40):
        order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    assert OrmQ.objects.count() == 1

    drain_task()  # what the worker runs: clears the mark first, so the next command enqueues again
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    assert OrmQ.objects.count() == 2
    assert not summary_exists(order_id)


def test_migrate_creates_the_minute_sweep_once():
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    sweep = Schedule.objects.get(name=SWEEP_SCHEDULE_NAME)
    assert (sweep.func, sweep.schedule_type, sweep.minutes) == ("projections.tasks.drain_task", Schedule.MINUTES, 1)


def test_a_drain_that_leaves_committed_events_behind_follows_itself_up(monkeypatch):
    # Another drainer held a checkpoint or the horizon: the events' own nudges are spent.
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(tasks, "FOLLOW_UP_PAUSE_SECONDS", 0)
    for lag, state, follow_ups in ((3, State.CATCHING_UP, 1), (0, State.IDLE, 0)):
        row = replace(consumer_health()[0], lag_events=lag, state=state)
        monkeypatch.setattr(tasks, "consumer_health", lambda row=row: [row])
        cache.delete(PENDING_KEY)
        OrmQ.objects.all().delete()
        drain_task()
        assert OrmQ.objects.count() == follow_ups
