"""Plan demo orders from one random stream and record them through the domain services.

Seeding through ``orders_write.services`` (never the models) means demo data obeys every
invariant and has a complete outbox, so projections, rebuilds and ``verify_projections`` see
it exactly as they would see real traffic. ``orders_write.clock.frozen_at`` back-dates each
change, spreading orders over the past 90 days with their later status changes after them.
The random stream depends on the seed and on how many orders exist, so a second run adds
different orders instead of repeating the first.

Every service call is its own transaction with a handful of queries, most of its time spent in
Python, so ``jobs`` > 1 (PostgreSQL only) records the planned orders from several processes.
Plans are still drawn in one place from one random stream; only the interleaving of their ids
(and of a rare reprice with the orders around it) then depends on timing.
"""

import multiprocessing
import random
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from multiprocessing.util import Finalize
from typing import Any

from django.core.management.base import CommandError
from django.db import connections
from tqdm import tqdm

from config.databases import write_alias
from orders_write import clock, lookups
from orders_write.demo.data import (
    ADJECTIVES,
    CANCEL_RATE,
    CANCEL_REASONS,
    CARRIERS,
    CATALOGUE,
    DISCOUNT_AMOUNTS,
    DISCOUNT_PERCENTS,
    DISCOUNT_RATE,
    FIRST_NAMES,
    HOURLY_TRAFFIC,
    LAST_NAMES,
    LINE_COUNT_WEIGHTS,
    QUANTITY_WEIGHTS,
    RENAME_RATE,
    REPRICE_RATE,
    WINDOW,
)
from orders_write.services import (
    LineInput,
    customer_register,
    customer_rename,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_place,
    order_ship,
    product_add,
    product_reprice,
)

ORDERS_PER_CHUNK = 100  # the unit of work handed to a worker and of progress updates


@dataclass(frozen=True)
class Change:
    """One service call at a moment in the past; an order's changes also get its id."""

    at: datetime
    service: Callable[..., Any]
    arguments: dict[str, Any] = field(default_factory=dict)

    def record(self, **order: int) -> None:
        with clock.frozen_at(self.at):
            self.service(**order, **self.arguments)


@dataclass(frozen=True)
class OrderPlan:
    """An order to place and the changes it went through since, all in the past."""

    customer_id: int
    lines: list[LineInput]
    placed_at: datetime
    changes: list[Change]

    def record(self) -> None:
        with clock.frozen_at(self.placed_at):
            order_id = order_place(customer_id=self.customer_id, lines=self.lines).order_id
        for change in self.changes:
            change.record(order_id=order_id)


class DemoSeeder:
    """Draw demo data from one random stream and record it through the domain services."""

    def __init__(self, *, seed: int, now: datetime, hide_progress: bool | None) -> None:
        self.rng = random.Random(f"{seed}:{lookups.order_count()}")
        self.now = now
        self.hide_progress = hide_progress
        self.customer_ids: list[int] = []
        self.customer_weights: list[float] = []
        self.prices: dict[str, int] = {}
        self.skus: list[str] = []
        self.product_weights: list[float] = []

    def ensure_customers(self, wanted: int) -> int:
        """Register customers until ``wanted`` are active; return how many were registered."""
        self.customer_ids = lookups.customer_ids_active()
        missing = max(0, wanted - len(self.customer_ids))
        taken = lookups.customer_emails() if missing else set()
        for registered_at in self._progress(self._moments_before_window(missing), "customers"):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            email = _free_email(first, last, taken)
            with clock.frozen_at(registered_at):
                self.customer_ids.append(customer_register(name=f"{first} {last}", email=email).aggregate_id)
        # Pareto weights give the long tail of real shops: a few customers place many orders.
        self.customer_weights = list(accumulate(min(self.rng.paretovariate(1.2), 50) for _ in self.customer_ids))
        return missing

    def ensure_products(self, wanted: int) -> int:
        """Add products until ``wanted`` are on sale; return how many were added."""
        self.prices = lookups.product_prices_active()
        missing = max(0, wanted - len(self.prices))
        taken = lookups.product_skus() if missing else set()
        for added_at in self._progress(self._moments_before_window(missing), "products"):
            prefix, nouns, (low, high) = self.rng.choice(CATALOGUE)
            sku = _free_sku(prefix, taken)
            name = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(nouns)}"
            price = _shelf_price(self.rng.uniform(low, high))
            with clock.frozen_at(added_at):
                product_add(sku=sku, name=name, price=price)
            self.prices[sku] = price
        self.skus = list(self.prices)
        self.product_weights = list(accumulate(min(self.rng.paretovariate(1.5), 30) for _ in self.skus))
        return missing

    def place_orders(self, count: int, *, jobs: int = 1) -> None:
        """Place ``count`` orders in time order, each taken through its life so far."""
        if count and not (self.customer_ids and self.prices):
            raise CommandError("orders need at least one active customer and one product on sale")
        chunks = self._planned_chunks(self._placement_times(count))
        with tqdm(total=count, desc="seeding orders", unit="order", file=sys.stderr, disable=self.hide_progress) as bar:
            for placed in _record_chunks(chunks, jobs=jobs):
                bar.update(placed)

    def _planned_chunks(self, placement_times: list[datetime]) -> Iterator[list[OrderPlan | Change]]:
        for first in range(0, len(placement_times), ORDERS_PER_CHUNK):
            chunk: list[OrderPlan | Change] = []
            for placed_at in placement_times[first : first + ORDERS_PER_CHUNK]:
                chunk += self._catalogue_changes(placed_at)
                chunk.append(self._plan_order(placed_at))
            yield chunk

    def _plan_order(self, placed_at: datetime) -> OrderPlan:
        customer_id = self.rng.choices(self.customer_ids, cum_weights=self.customer_weights)[0]
        lines = self._lines()
        subtotal = sum(self.prices[line.sku] * line.quantity for line in lines)
        return OrderPlan(customer_id, lines, placed_at, self._life_so_far(placed_at, subtotal))

    def _lines(self) -> list[LineInput]:
        wanted = min(_weighted(self.rng, LINE_COUNT_WEIGHTS), len(self.skus))
        chosen: dict[str, None] = {}  # a dict keeps the drawing order, so the plan is reproducible
        while len(chosen) < wanted:
            chosen[self.rng.choices(self.skus, cum_weights=self.product_weights)[0]] = None
        return [LineInput(sku=sku, quantity=_weighted(self.rng, QUANTITY_WEIGHTS)) for sku in chosen]

    def _life_so_far(self, placed_at: datetime, subtotal: int) -> list[Change]:
        """Return the order's later changes, each a little after the previous, cut at now."""
        rng, changes, moment = self.rng, [], placed_at
        if rng.random() < DISCOUNT_RATE:
            moment += timedelta(minutes=rng.uniform(1, 20))
            changes.append(Change(moment, order_discount_apply, self._discount(subtotal)))
        confirm = Change(moment + timedelta(hours=rng.lognormvariate(0.5, 0.9)), order_confirm)
        if rng.random() < CANCEL_RATE:
            cancel = Change(moment + timedelta(hours=rng.uniform(0.2, 48)), order_cancel, _cancel_reason(rng))
            changes += [confirm, cancel] if confirm.at < cancel.at else [cancel]
        else:
            tracking = {"tracking_number": f"{rng.choice(CARRIERS)}{rng.randrange(10**10):010d}"}
            ship = Change(confirm.at + timedelta(hours=rng.uniform(4, 60)), order_ship, tracking)
            changes += [confirm, ship, Change(ship.at + timedelta(hours=rng.uniform(18, 120)), order_deliver)]
        return [change for change in changes if change.at <= self.now]  # in time order, so a prefix

    def _discount(self, subtotal: int) -> dict[str, int]:
        """Return a percentage or a fixed amount; an amount stays well below the subtotal.

        A third of the subtotal leaves room for a reprice that, with ``--jobs``, may land just
        before the order is placed although it was planned just after.
        """
        amount = self.rng.choice(DISCOUNT_AMOUNTS)
        if self.rng.random() < 0.5 and amount <= subtotal // 3:
            return {"amount": amount}
        return {"percent": self.rng.choice(DISCOUNT_PERCENTS)}

    def _catalogue_changes(self, moment: datetime) -> list[Change]:
        """Now and then reprice a product or rename a customer, as a living shop does."""
        changes = []
        if self.rng.random() < REPRICE_RATE:
            sku = self.rng.choice(self.skus)
            price = _shelf_price(self.prices[sku] * self.rng.uniform(0.85, 1.2))
            if price != self.prices[sku]:
                changes.append(Change(moment, product_reprice, {"sku": sku, "price": price}))
                self.prices[sku] = price
        if self.rng.random() < RENAME_RATE:
            arguments = {"customer_id": self.rng.choice(self.customer_ids), "last_name": self.rng.choice(LAST_NAMES)}
            changes.append(Change(moment, _customer_rename_last_name, arguments))
        return changes

    def _placement_times(self, count: int) -> list[datetime]:
        """Draw ``count`` sorted moments in the past 90 days, shaped like shop traffic.

        Rejection sampling: a uniform moment is kept with a probability that grows over the
        window (a growing shop), dips at weekends and follows the hour of the day.
        """
        start, span = self.now - WINDOW + timedelta(hours=1), (WINDOW - timedelta(hours=1)).total_seconds()
        peak = max(HOURLY_TRAFFIC)
        moments: list[datetime] = []
        while len(moments) < count:
            offset = self.rng.uniform(0, span)
            moment = start + timedelta(seconds=offset)
            busyness = (0.6 + 0.4 * offset / span) * (0.8 if moment.weekday() >= 5 else 1.0)
            if self.rng.random() < busyness * HOURLY_TRAFFIC[moment.hour] / peak:
                moments.append(moment)
        return sorted(moments)

    def _moments_before_window(self, count: int) -> list[datetime]:
        """Return ``count`` sorted moments up to half a year before the oldest order, for sign-ups."""
        window_start = self.now - WINDOW
        return sorted(window_start - timedelta(days=self.rng.uniform(0.1, 180)) for _ in range(count))

    def _progress(self, moments: list[datetime], unit: str) -> Iterable[datetime]:
        if not moments:
            return moments
        return tqdm(moments, desc=f"seeding {unit}", unit=unit[:-1], file=sys.stderr, disable=self.hide_progress)


def _record_chunks(chunks: Iterator[list[OrderPlan | Change]], *, jobs: int) -> Iterator[int]:
    """Record each chunk and yield how many orders it placed, in this process or in ``jobs`` workers."""
    if jobs == 1:
        yield from map(_record_chunk, chunks)
        return
    # A forked worker must not share the parent's database socket: close it before forking,
    # and each worker opens its own on first use.
    connections.close_all()
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_start_worker)
    try:
        yield from pool.imap(_record_chunk, chunks)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _record_chunk(chunk: list[OrderPlan | Change]) -> int:
    placed = 0
    for item in chunk:
        item.record()
        placed += isinstance(item, OrderPlan)
    return placed


def _start_worker() -> None:
    _set_synchronous_commit("off")
    # Close the worker's connection cleanly when the pool shuts it down.
    Finalize(None, connections.close_all, exitpriority=10)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _customer_rename_last_name(*, customer_id: int, last_name: str) -> None:
    """Give a customer a new last name (a marriage, a typo fixed), keeping the first name."""
    first_name = (lookups.customer_name(customer_id) or "").split(" ")[0] or "Alex"
    customer_rename(customer_id=customer_id, name=f"{first_name} {last_name}")


def _cancel_reason(rng: random.Random) -> dict[str, str]:
    return {"reason": rng.choice(CANCEL_REASONS)}


@contextmanager
def commits_without_waiting_for_disk() -> Iterator[None]:
    """On PostgreSQL, let this session's commits return before their WAL reaches the disk.

    Every service call is its own transaction, so seeding 100,000 orders means some 400,000
    commits; waiting for an fsync on each would dominate the run on a real disk. With
    ``synchronous_commit`` off a crash can lose the last few hundred milliseconds of commits,
    but never corrupts anything or splits a transaction: a change and its outbox events still
    vanish together. Losing the tail of demo data is harmless (run the seed again), so the
    trade is safe here. It is set for this session only and reset afterwards, so it never
    applies to real traffic.
    """
    if connections[write_alias()].vendor != "postgresql":
        yield
        return
    _set_synchronous_commit("off")
    try:
        yield
    finally:
        _set_synchronous_commit("on")


def _set_synchronous_commit(value: str) -> None:
    with connections[write_alias()].cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off" if value == "off" else "RESET synchronous_commit")


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _shelf_price(amount: float) -> int:
    """Round a price in minor units to a shop-like one ending in 99 (12.99), at least 0.99."""
    return max(99, round(amount / 100) * 100 - 1)


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in decomposed.lower() if char.isalnum())


def _free_email(first: str, last: str, taken: set[str]) -> str:
    """Return ``first.last@example.com``, numbered when taken, and mark it taken."""
    base = f"{_ascii_slug(first)}.{_ascii_slug(last)}"
    email, number = f"{base}@example.com", 1
    while email in taken:
        number += 1
        email = f"{base}{number}@example.com"
    taken.add(email)
    return email


def _free_sku(prefix: str, taken: set[str]) -> str:
    """Return the first free ``PREFIX-00001`` style sku and mark it taken."""
    number = 1
    while (sku := f"{prefix}-{number:05d}") in taken:
        number += 1
    taken.add(sku)
    return sku
