"""The NATS relay's throughput on a large log vs raw nats-py publishing, and its lag under load.

Both runs start a nats-server of their own (``bench/natsd.py``: a free port, a throw-away file
store) and take the machine-wide bench lock; databases are on the PostgreSQL server of
``DATABASE_URL`` (``bench/stack.py``)::

    .venv/bin/python -m bench.seed_log nats_log --orders 250000 --lifecycle full   # about 1,000,000 events
    .venv/bin/python -m bench.nats_bus throughput nats_log
    .venv/bin/python -m bench.nats_bus lag [--rate 200] [--duration 60] [--writers 3]

**throughput**: ``nats_setup``, then one process drains the relay from position 0 to the head
(or to ``--limit N`` events, batch by batch)
(``projections.runtime.loop.drain("nats")``: what a worker's drain task does for it, batch by
batch, each batch published with all its acks in flight and committed after the last ack), and
checks the stream holds exactly one message per event. Then the **raw baseline**, in the same
run: the stream is deleted and made again, and a second process builds exactly the same
messages (subject, body, headers) batch by batch from the same log and publishes each batch
with nats-py's ``publish_async``, awaiting all acks; only the publishing is timed. Targets:
≥ 10,000 events/s and ≥ 50% of raw.

**lag**: a fresh shop (``nats_lag``) with gunicorn (to seed the catalogue), one ``qcluster``
(one worker, Redis broker and cache on Redis database 11) and the relay; ``--writers`` processes
place ``--rate`` orders/s through the services (``bench/direct_load.py``) for ``--duration``
seconds while a JetStream ordered consumer in this process stamps when each message reaches
the stream. Lag = arrival - the event's ``occurred_at`` (stamped by the service just before its
commit, so this is an upper bound of commit-to-in-stream). Target: p99 ≤ 500 ms.

Exit 1 when a target is missed (not with ``--ignore-targets``) or the stream does not hold
exactly one message per outbox event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime

import psycopg

from bench import natsd, stack
from bench.direct_load import DirectLoad
from bench.load import Api, seed_catalogue

SEED_COMMAND = ".venv/bin/python -m bench.seed_log {database} --orders 250000 --lifecycle full"
TARGET_EVENTS_PER_SECOND = 10_000
TARGET_RAW_RATIO = 0.50
TARGET_P99_SECONDS = 0.5
LAG_REDIS_DB = 11  # a Redis database of this harness's own: broker queue and cache marks start empty
BATCH_SIZE = 2000  # the runtime's DEFAULT_BATCH_SIZE: the raw baseline publishes in the same batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("throughput", "lag"))
    parser.add_argument("database", nargs="?", default="nats_log")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--ignore-targets", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="throughput: only the log's first N events (0: all)")
    parser.add_argument("--child", choices=("relay", "raw", "count"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child]()))
        return 0
    with stack.bench_lock():
        return throughput(args) if args.mode == "throughput" else lag(args)


def _limit() -> int:
    return int(os.environ.get("NATS_BENCH_LIMIT", "0"))


# ---------------------------------------------------------------------------------------------
# Throughput: the relay vs raw publish_async of the same messages.
# ---------------------------------------------------------------------------------------------


def throughput(args: argparse.Namespace) -> int:
    url = stack.require_database(args.database, made_by=SEED_COMMAND.format(database=args.database))
    server = natsd.NatsServer("bench-nats").start()
    try:
        env = stack.stack_env(url, NATS_BENCH_LIMIT=str(args.limit), **server.env())
        stack.manage(env, "nats_setup")
        relay = _child(env, "relay")
        print(f"relay: {relay}", file=sys.stderr, flush=True)
        stored = _child(env, "count")
        raw = _child(env, "raw")
    finally:
        server.remove()
    rate, raw_rate = relay["events"] / relay["seconds"], raw["events"] / raw["seconds"]
    ratio = rate / raw_rate
    print(f"\n{relay['events']:,} events; stream after the relay: {stored['messages']:,} messages\n")
    print("| run | wall s | events/s | CPU s (user+sys) | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, result, events_per_second in (
        ("relay (drain of the `nats` consumer, one process)", relay, rate),
        ("raw nats-py publish_async of the same messages", raw, raw_rate),
    ):
        print(f"| {name} | {result['seconds']:.1f} | {events_per_second:,.0f} | {result['cpu']:.1f} | "
              f"{result['peak_rss_mib']:.0f} |")  # fmt: skip
    print(f"\nrelay / raw = {ratio:.0%} (target ≥ {TARGET_RAW_RATIO:.0%}); "
          f"relay {rate:,.0f} events/s (target ≥ {TARGET_EVENTS_PER_SECOND:,})")  # fmt: skip
    once = stored["messages"] == relay["events"] == raw["events"]
    print(f"stream holds one message per event: {'yes' if once else 'NO'}")
    met = rate >= TARGET_EVENTS_PER_SECOND and ratio >= TARGET_RAW_RATIO
    return 0 if once and (met or args.ignore_targets) else 1


def _child(env: dict[str, str], mode: str) -> dict:
    command = [sys.executable, "-m", "bench.nats_bus", "throughput", "--child", mode]
    result = subprocess.run(command, cwd=stack.ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def _usage(started_cpu: float) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": usage.ru_utime + usage.ru_stime - started_cpu, "peak_rss_mib": usage.ru_maxrss / 1024}


def _child_relay() -> dict:
    _django()
    from projections.models import Checkpoint, ParkedStream
    from projections.runtime.checkpoints import ensure_checkpoints
    from projections.runtime.loop import drain_batch
    from projections.runtime.registry import consumers

    Checkpoint.objects.filter(projection="nats").delete()
    ParkedStream.objects.filter(projection="nats").delete()
    ensure_checkpoints(["nats"])
    relay, limit = consumers()["nats"], _limit()
    cpu = _usage(0)["cpu"]
    started = time.perf_counter()
    events = 0
    while not limit or events < limit:  # what drain("nats") does, stopping at the limit
        result = drain_batch(relay, batch_size=BATCH_SIZE)
        events += result.events
        if not result.more:
            break
    seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, **_usage(cpu)}


def _child_count() -> dict:
    _django()
    from bus.client import connect
    from bus.config import bus

    async def count() -> int:
        client = await connect(bus())
        try:
            return (await client.jetstream().stream_info(bus().stream)).state.messages
        finally:
            await client.close()

    return {"messages": asyncio.run(count())}


def _child_raw() -> dict:
    """Publish the relay's messages again, batch by batch, into a fresh stream; time only the publishing."""
    _django()
    from bus.client import connect
    from bus.config import bus
    from bus.messages import message_of
    from bus.relay import MAX_ACKS_IN_FLIGHT, NatsRelay
    from bus.stream import ensure_stream
    from projections.runtime.apply import batches
    from projections.store import START

    current = bus()
    event_types = NatsRelay.event_types()

    loop = asyncio.new_event_loop()  # driven from this thread: the log is read by Django, synchronously
    client = loop.run_until_complete(connect(current))
    js = client.jetstream(publish_async_max_pending=MAX_ACKS_IN_FLIGHT)
    loop.run_until_complete(js.delete_stream(current.stream))
    loop.run_until_complete(ensure_stream(js, current))

    async def publish(messages: list) -> None:
        acks = [
            await js.publish_async(m.subject, m.body, headers={**m.headers}, stream=current.stream) for m in messages
        ]
        await asyncio.gather(*acks)

    def publish_all() -> tuple[float, int]:
        seconds, events = 0.0, 0
        for batch in batches(after=START, event_types=event_types, limit=BATCH_SIZE):
            if _limit() and events >= _limit():
                break
            messages = [message_of(stored, current) for stored in batch.events]  # not timed
            started = time.perf_counter()
            loop.run_until_complete(publish(messages))
            seconds += time.perf_counter() - started
            events += len(messages)
        stored = loop.run_until_complete(js.stream_info(current.stream)).state.messages
        loop.run_until_complete(client.close())
        if stored != events:
            raise RuntimeError(f"raw: {events} published, {stored} in the stream")
        return seconds, events

    cpu = _usage(0)["cpu"]
    seconds, events = publish_all()
    return {"events": events, "seconds": seconds, **_usage(cpu)}


CHILDREN = {"relay": _child_relay, "raw": _child_raw, "count": _child_count}


# ---------------------------------------------------------------------------------------------
# Lag: commit to in-stream under a steady write load.
# ---------------------------------------------------------------------------------------------


class StreamWatcher:
    """A JetStream ordered consumer on every subject: stamps when each message reaches the stream."""

    def __init__(self, url: str, subjects: str) -> None:
        self.url, self.subjects = url, subjects
        self.arrivals: list[tuple[str, float, str]] = []  # (event id, arrival, occurred_at)
        self.ready, self.stopping = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._watch()), daemon=True)

    def start(self) -> StreamWatcher:
        self.thread.start()
        if not self.ready.wait(20):
            raise RuntimeError("the stream watcher did not subscribe")
        return self

    async def _watch(self) -> None:
        import nats
        from nats.js.api import DeliverPolicy

        client = await nats.connect(self.url)

        async def on_message(message) -> None:
            arrived = time.time()
            event = json.loads(message.data)
            self.arrivals.append((event["event_id"], arrived, event["occurred_at"]))

        # Only what is published from now on: the catalogue's events went out before the load.
        await client.jetstream().subscribe(
            self.subjects, cb=on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )
        self.ready.set()
        while not self.stopping.is_set():
            await asyncio.sleep(0.1)
        await client.close()

    def lags(self) -> list[float]:
        return [arrived - datetime.fromisoformat(occurred).timestamp() for _, arrived, occurred in self.arrivals]


def flush_redis_db(db: int) -> None:
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as sock:
        sock.sendall(f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n".encode())
        time.sleep(0.1)
        sock.recv(256)


def lag(args: argparse.Namespace) -> int:
    server = natsd.NatsServer("lag-nats").start()
    url = stack.create_database("nats_lag")
    flush_redis_db(LAG_REDIS_DB)
    env = stack.stack_env(url, REDIS_URL=f"{stack.REDIS_URL}/{LAG_REDIS_DB}", **server.env())
    web = cluster = None
    try:
        stack.migrate(env)
        stack.manage(env, "nats_setup")
        token = stack.api_token(env)
        web, base = stack.start_web(env, workers=2, threads=4)
        customers, skus = seed_catalogue(Api(base, token), customers=200, products=50)
        web.stop()
        cluster = stack.start_qcluster(env, name="qcluster-nats-lag")
        time.sleep(3)  # the catalogue's events reach the stream before the watcher starts
        watcher = StreamWatcher(server.url, "orders.events.>").start()
        load = DirectLoad(env, customers=customers, skus=skus, rate=args.rate, duration=args.duration,
                          writers=args.writers)  # fmt: skip
        result = load.run()
        outbox_after_catalogue = _outbox_events_since_catalogue(url, len(customers) + len(skus))
        deadline = time.time() + 60
        while len(watcher.arrivals) < outbox_after_catalogue and time.time() < deadline:
            time.sleep(0.2)
        watcher.stopping.set()
        watcher.thread.join(10)
    finally:
        if cluster is not None:
            cluster.stop()
        server.remove()
    lags = sorted(watcher.lags())
    ids = [event_id for event_id, _, _ in watcher.arrivals]
    once = len(ids) == len(set(ids)) == outbox_after_catalogue
    p50, p95, p99 = (lags[int(q * (len(lags) - 1))] for q in (0.50, 0.95, 0.99)) if lags else (0, 0, 0)
    print(f"\n{len(result.acks)} orders acknowledged ({result.rate:.1f}/s over {result.duration:.0f} s, "
          f"{args.writers} writer processes); {len(lags)} messages arrived, "
          f"{outbox_after_catalogue} outbox events after the catalogue\n")  # fmt: skip
    print("| commit → in stream | p50 | p95 | p99 | max | mean |")
    print("|---|---|---|---|---|---|")
    if lags:
        print(f"| seconds | {p50:.3f} | {p95:.3f} | {p99:.3f} | {lags[-1]:.3f} | {statistics.fmean(lags):.3f} |")
    print(f"\nexactly one message per event: {'yes' if once else 'NO'}; p99 target ≤ {TARGET_P99_SECONDS} s")
    met = bool(lags) and p99 <= TARGET_P99_SECONDS and result.rate >= 0.95 * args.rate
    return 0 if once and (met or args.ignore_targets) else 1


def _outbox_events_since_catalogue(url: str, catalogue_events: int) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        total = connection.execute("SELECT COUNT(*) FROM outbox_event").fetchone()[0]
    return total - catalogue_events


if __name__ == "__main__":
    sys.exit(main())
