"""``seed_demo``: fill the database with realistic demo data (see ``orders_write.demo``).

Run again, it adds more orders, reusing the customers and products already there. With
``--seed`` the data is reproducible on a fresh database.
"""

import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.utils import timezone

from config.databases import write_alias
from orders_write import lookups
from orders_write.demo.data import DEFAULT_SIZES, IF_EMPTY_SIZES
from orders_write.demo.seeder import DemoSeeder, can_fork, commits_without_waiting_for_disk


class Command(BaseCommand):
    help = "Create realistic demo customers, products and orders through the domain services."

    def add_arguments(self, parser: CommandParser) -> None:
        self._add_size(parser, "customers", "ensure at least N active customers")
        self._add_size(parser, "products", "ensure at least N products on sale")
        self._add_size(parser, "orders", "add N orders")
        parser.add_argument("--seed", type=int, help="make the data reproducible (default: a random seed)")
        parser.add_argument("--if-empty", action="store_true", help="seed only when there are no orders yet")
        parser.add_argument(
            "--jobs",
            type=_positive_int,
            default=1,
            metavar="N",
            help="record orders from N processes on PostgreSQL (faster; ids then interleave by timing). Default 1",
        )

    def _add_size(self, parser: CommandParser, name: str, meaning: str) -> None:
        default, small = DEFAULT_SIZES[name], IF_EMPTY_SIZES[name]
        parser.add_argument(
            f"--{name}",
            type=_non_negative_int,
            metavar="N",
            help=f"{meaning} (default {default}; {small} with --if-empty)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and lookups.order_exists():
            self.stdout.write("Orders exist already; nothing seeded.")
            return
        defaults = IF_EMPTY_SIZES if options["if_empty"] else DEFAULT_SIZES
        sizes = {name: default if options[name] is None else options[name] for name, default in defaults.items()}
        seed = options["seed"] if options["seed"] is not None else random.SystemRandom().randrange(1_000_000)
        connection = connections[write_alias()]
        jobs = options["jobs"] if connection.vendor == "postgresql" and can_fork() else 1
        hide_progress = None if options["verbosity"] >= 1 else True  # None: show it on a terminal only
        started = time.monotonic()
        with commits_without_waiting_for_disk():
            seeder = DemoSeeder(seed=seed, now=timezone.now(), hide_progress=hide_progress)
            new_customers = seeder.ensure_customers(sizes["customers"])
            new_products = seeder.ensure_products(sizes["products"])
            seeder.place_orders(sizes["orders"], jobs=jobs)
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner: autovacuum may be off or minutes behind a bulk load.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Seeded {sizes['orders']} orders, {new_customers} new customers and {new_products} new products "
            f"in {elapsed:.1f}s ({sizes['orders'] / max(elapsed, 1e-9):.0f} orders/s, {jobs} job(s)); "
            f"reproduce with --seed {seed}."
        )


def _non_negative_int(text: str) -> int:
    number = int(text)
    if number < 0:
        raise ValueError(text)
    return number


def _positive_int(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number
