"""An open-loop HTTP order load for benchmarks and fault drills, exactly-once from the client side.

Orders are scheduled at a fixed rate (open loop: a slow server makes requests queue up, it does
not slow the schedule down, so lag and latency are not hidden by coordinated omission). Each
order carries an ``Idempotency-Key``; a request that fails without an answer (connection refused
or reset, timeout, 5xx while PostgreSQL restarts) is retried with the same key until the server
answers 201, so a placement is acknowledged exactly once even when the first attempt committed
but its answer was lost. ``LoadResult.acks`` is then the ground truth a drill compares the read
tables against.

Standard library only (``http.client`` with one keep-alive connection per thread).
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from urllib.parse import urlsplit

RETRY_PAUSE_SECONDS = 0.2


@dataclass(frozen=True)
class Ack:
    """One acknowledged placement: what the server answered and when (``time.time()`` seconds)."""

    order_id: int
    customer_id: int
    version: int
    position: int
    scheduled_at: float
    acked_at: float
    attempts: int


@dataclass
class LoadResult:
    acks: list[Ack] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # every answer and failure seen, by kind
    abandoned: int = 0  # orders never acknowledged before the give-up deadline
    duration: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.acks) / self.duration if self.duration else 0.0


class Api:
    """A tiny JSON client over one keep-alive connection (one per thread)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.connection: HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None, **headers: str) -> tuple[int, dict]:
        """Send one request; raise ``OSError``/``HTTPException`` when no answer arrives."""
        if self.connection is None:
            self.connection = HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            payload = None if body is None else json.dumps(body)
            self.connection.request(method, path, body=payload, headers={**self.headers, **headers})
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, HTTPException):
            self.connection.close()
            self.connection = None
            raise
        return response.status, (json.loads(data) if data else {})


def seed_catalogue(api: Api, *, customers: int, products: int, tag: str | None = None) -> tuple[list[int], list[str]]:
    """Register customers and add products through the API; return their ids and skus."""
    tag = tag or uuid.uuid4().hex[:8]
    customer_ids, skus = [], []
    for n in range(customers):
        customer = {"name": f"Load {n}", "email": f"load{n}.{tag}@example.com"}
        status, body = api.request("POST", "/api/customers/", customer)
        assert status == 201, (status, body)
        customer_ids.append(body["customer_id"])
    for n in range(products):
        sku = f"LOAD-{tag}-{n}"
        product = {"sku": sku, "name": f"Load product {n}", "price": 100 + n}
        status, body = api.request("POST", "/api/products/", product)
        assert status == 201, (status, body)
        skus.append(sku)
    return customer_ids, skus


def random_order(rng: random.Random, customers: list[int], skus: list[str]) -> dict:
    """One placement's body: a random customer, one to three distinct skus, one to three of each."""
    lines = rng.sample(skus, k=min(len(skus), rng.choice((1, 1, 2, 3))))
    return {
        "customer_id": rng.choice(customers),
        "lines": [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in lines],
    }


class OrderLoad:
    """Place orders at ``rate`` per second for ``duration`` seconds from ``threads`` client threads."""

    def __init__(
        self, base_url: str, token: str | list[str], *, customers: list[int], skus: list[str], rate: float,
        duration: float, threads: int = 16, give_up_after: float = 120, seed: int = 1,
    ) -> None:  # fmt: skip
        # Several tokens: client thread n acts as user n % len(tokens) (many API users, as in a shop).
        self.tokens = [token] if isinstance(token, str) else list(token)
        self.base_url, self.token = base_url, self.tokens[0]
        self.customers, self.skus = customers, skus
        self.rate, self.duration, self.threads, self.give_up_after = rate, duration, threads, give_up_after
        self.random = random.Random(seed)
        self.result = LoadResult()
        self._tickets: queue.Queue[tuple[float, dict] | None] = queue.Queue()
        self._lock = threading.Lock()
        self.on_ack = None  # optional callback(Ack), called from client threads

    def run(self) -> LoadResult:
        started = time.time()
        workers = [
            threading.Thread(target=self._work, args=(self.tokens[n % len(self.tokens)],), daemon=True)
            for n in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        count = int(self.rate * self.duration)
        for n in range(count):
            due = started + n / self.rate
            if (pause := due - time.time()) > 0:
                time.sleep(pause)
            self._tickets.put((due, self._order_body()))
        for _ in workers:
            self._tickets.put(None)
        for worker in workers:
            worker.join()
        self.result.duration = time.time() - started
        return self.result

    def _order_body(self) -> dict:
        return random_order(self.random, self.customers, self.skus)

    def _work(self, token: str) -> None:
        api = Api(self.base_url, token)
        while (ticket := self._tickets.get()) is not None:
            scheduled_at, body = ticket
            self._place(api, scheduled_at, body)

    def _place(self, api: Api, scheduled_at: float, body: dict) -> None:
        key = str(uuid.uuid4())
        deadline = time.time() + self.give_up_after
        attempts = 0
        while time.time() < deadline:
            attempts += 1
            try:
                status, answer = api.request("POST", "/api/orders/", body, **{"Idempotency-Key": key})
            except (OSError, HTTPException) as error:
                self._count(type(error).__name__)
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            self._count(str(status))
            if status == 201:
                ack = Ack(
                    order_id=answer["order_id"], customer_id=body["customer_id"],
                    version=answer["version"], position=answer["position"], scheduled_at=scheduled_at,
                    acked_at=time.time(), attempts=attempts,
                )  # fmt: skip
                with self._lock:
                    self.result.acks.append(ack)
                if self.on_ack is not None:
                    self.on_ack(ack)
                return
            if status < 500 and status != 429:  # refused for good: counted in statuses, never acknowledged
                self._count(f"refused {status} {answer.get('code', '')}")
                return
            time.sleep(RETRY_PAUSE_SECONDS)
        with self._lock:
            self.result.abandoned += 1

    def _count(self, kind: str) -> None:
        with self._lock:
            self.result.statuses[kind] += 1
