"""The demo data: seed_demo builds valid, varied, reproducible history (the demo login: test_demo_user.py)."""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from events import OrderStatus
from orders_write.models import Customer, Order, OutboxEvent, Product

SMALL = {"customers": 20, "products": 10, "orders": 60}
# The seeder shapes traffic by hour of day and weekday relative to "now", so the same seed gives a
# different mix at a different wall-clock time; tests about the mix pin "now" (a Tuesday afternoon).
PINNED_NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", **{"seed": 1, **SMALL, **options}, verbosity=0, stdout=out)
    return out.getvalue()


def order_sequence() -> list[tuple]:
    """Return what each order is, in id order, leaving out ids and timestamps."""
    orders = Order.objects.order_by("id").select_related("customer").prefetch_related("lines")
    return [
        (
            order.customer.name,
            [(line.sku, line.quantity, line.unit_price) for line in order.lines.order_by("id")],
            order.status,
            order.discount,
            order.total,
        )
        for order in orders
    ]


@pytest.mark.django_db
def test_seed_creates_the_requested_customers_products_and_orders():
    output = seed()

    assert (Customer.objects.count(), Product.objects.count(), Order.objects.count()) == (20, 10, 60)
    assert "Seeded 60 orders" in output
    assert "--seed 1" in output


@pytest.mark.django_db
def test_seeded_orders_mix_statuses_discounts_and_line_counts(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: PINNED_NOW)
    seed(orders=150)

    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert statuses.most_common(1)[0][0] == OrderStatus.DELIVERED
    assert statuses[OrderStatus.CANCELLED] > 0
    assert len(statuses) >= 4
    assert 0 < Order.objects.filter(discount__gt=0).count() < 75
    orders = order_sequence()
    line_counts = Counter(len(lines) for _, lines, *_ in orders)
    assert set(line_counts) <= {1, 2, 3, 4, 5} and line_counts.most_common(1)[0][0] == 1
    quantities = [quantity for _, lines, *_ in orders for _, quantity, _ in lines]
    assert sum(quantity <= 3 for quantity in quantities) > 0.9 * len(quantities)
    orders_per_customer = Counter(Order.objects.values_list("customer_id", flat=True))
    assert max(orders_per_customer.values()) >= 3 * 150 / 20, "a few customers order far more than most"


@pytest.mark.django_db
def test_every_order_has_an_order_placed_event_and_gapless_versions():
    seed()

    versions = defaultdict(list)
    first_event_type = {}
    for event in OutboxEvent.objects.filter(aggregate_type="order").order_by("position"):
        versions[event.aggregate_id].append(event.aggregate_version)
        first_event_type.setdefault(event.aggregate_id, event.event_type)
    orders = dict(Order.objects.values_list("id", "version"))
    assert set(versions) == set(orders)
    for order_id, version in orders.items():
        assert versions[order_id] == list(range(1, version + 1))
        assert first_event_type[order_id] == "OrderPlaced"


@pytest.mark.django_db
def test_history_lies_in_the_past_90_days_with_changes_after_placement():
    seed()
    now = timezone.now()

    placed = dict(Order.objects.values_list("id", "placed_at"))
    assert all(now - timedelta(days=90) < placed_at < now for placed_at in placed.values())
    for order_id, occurred_at in OutboxEvent.objects.filter(aggregate_type="order").values_list(
        "aggregate_id", "occurred_at"
    ):
        assert placed[order_id] <= occurred_at <= now


@pytest.mark.django_db(transaction=True)  # flush cannot truncate inside the test's transaction
def test_the_same_seed_on_a_fresh_database_gives_the_same_orders():
    seed(seed=42)
    first = order_sequence()
    call_command("flush", interactive=False, verbosity=0)
    seed(seed=42)

    assert order_sequence() == first
    assert len(first) == 60


@pytest.mark.django_db
def test_a_second_run_adds_orders_and_reuses_customers_and_products():
    seed()
    first = order_sequence()
    seed()

    assert (Customer.objects.count(), Product.objects.count(), Order.objects.count()) == (20, 10, 120)
    assert order_sequence()[:60] == first
    assert order_sequence()[60:] != first, "a second run with the same seed adds different orders"


@pytest.mark.django_db
def test_a_second_run_tops_up_customers_and_products_without_collisions():
    seed()
    seed(customers=30, products=15, orders=10)

    assert (Customer.objects.count(), Product.objects.count(), Order.objects.count()) == (30, 15, 70)


@pytest.mark.django_db
def test_if_empty_seeds_an_empty_database_and_leaves_a_seeded_one_alone():
    seed(if_empty=True)
    assert Order.objects.count() == 60

    output = seed(if_empty=True)

    assert Order.objects.count() == 60
    assert "nothing seeded" in output


@pytest.mark.django_db(transaction=True)
def test_parallel_jobs_record_every_planned_order_validly():
    seed(orders=120, jobs=2)

    assert Order.objects.count() == 120
    for order in Order.objects.all():
        versions = OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=order.pk)
        assert sorted(versions.values_list("aggregate_version", flat=True)) == list(range(1, order.version + 1))
