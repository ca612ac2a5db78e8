"""Read the stream back: a pull consumer over a subject filter (``nats_tail``, the tests, the drill).

A subscriber elsewhere would do the same: a durable consumer remembers what it acknowledged, so
a restarted subscriber goes on where it stopped; without a name the consumer is ephemeral and
reads the stream from its first message.
"""

import asyncio
from collections.abc import AsyncIterator

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

FETCH_BATCH = 1000


def durable_name_for(subject: str) -> str:
    """A durable consumer name for ``subject`` (names may not hold dots or wildcards)."""
    return "nats_tail_" + subject.replace(".", "_").replace(">", "all").replace("*", "any")


async def pull(
    js: JetStreamContext,
    *,
    stream: str,
    subject: str,
    durable: str | None = None,
    idle_seconds: float | None = 2.0,
    limit: int = 0,
) -> AsyncIterator[Msg]:
    """Yield the stream's messages on ``subject`` in stream order, acknowledging each after it is used.

    Stops after ``limit`` messages (0: no limit) or once nothing arrived for ``idle_seconds``
    (``None``: wait for ever).
    """
    config = ConsumerConfig(
        filter_subject=subject, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL, max_ack_pending=-1
    )
    subscription = await js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
    seen = 0
    idle_since = asyncio.get_running_loop().time()
    try:
        while True:
            want = FETCH_BATCH if not limit else min(FETCH_BATCH, limit - seen)
            try:
                messages = await subscription.fetch(want, timeout=1.0)
            except TimeoutError:  # nats-py's own TimeoutError is one too
                messages = []
            if not messages:
                if idle_seconds is not None and asyncio.get_running_loop().time() - idle_since >= idle_seconds:
                    return
                continue
            idle_since = asyncio.get_running_loop().time()
            for message in messages:
                yield message
                await message.ack()
                seen += 1
                if limit and seen >= limit:
                    return
    finally:
        await subscription.unsubscribe()
