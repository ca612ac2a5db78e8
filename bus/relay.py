"""The NATS relay: every outbox event published to JetStream, in commit order, once per event id.

A *relay* on the consumer runtime (ADR 0016): the runtime hands it each batch in drain order and
moves its checkpoint only after ``apply`` returns, and ``apply`` returns only after JetStream
acknowledged every message of the batch. The batch goes out with all its acks in flight
(nats-py's asynchronous publish), so a batch costs about one round trip, not one per event. A
batch published again (a worker killed before the checkpoint moved) lands once: each message's
``Nats-Msg-Id`` is its event id and JetStream drops ids it has seen within the duplicate window.

Failures are told apart (ADR 0019):
- NATS down, not answering in time, or the stream missing or unfit: ``ReceiverUnavailable``; the
  runtime retries the whole batch with backoff and reports ``receiver_unavailable``, nothing skipped.
- One message JetStream will not take (too large, say): ``MessageRejected``; the runtime isolates
  the failing order's stream and parks it for this relay, and every other stream flows. Sizes
  are checked against the stream's limit before anything of the batch is sent, so a rejected
  event never lets a later event of its order through first.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamInfo
from nats.js.errors import APIError, NoStreamResponseError, ServiceUnavailableError

from bus.background import BackgroundLoop
from bus.client import connect
from bus.config import CONNECT_TIMEOUT_SECONDS, Bus, bus, without_credentials
from bus.messages import Message, message_of
from bus.stream import StreamUnfit, checked_stream
from events.codec import EVENT_TYPES
from observability.instruments import record_bus_publish
from projections.runtime.consumer import ReceiverUnavailable, Relay
from projections.store import StoredEvent

MAX_ACKS_IN_FLIGHT = 4096  # above the runtime's batch size: a whole batch goes out before the first ack
WRONG_STREAM = 10060  # JetStream: "expected stream does not match": the subject belongs to another stream

logger = logging.getLogger(__name__)


class MessageRejected(Exception):
    """JetStream refused one message (it is fine with the others): its stream is parked."""


@dataclass
class _Session:
    bus: Bus
    client: Client
    js: JetStreamContext
    max_message_bytes: int
    refused: asyncio.Event


class NatsRelay(Relay):
    name = "nats"
    handlers = dict.fromkeys(EVENT_TYPES.values())

    def __init__(self) -> None:
        self._loop = BackgroundLoop(name="nats-relay")
        self._session: _Session | None = None
        self._one_batch_at_a_time = threading.Lock()

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        current = bus()
        messages = [message_of(stored, current) for stored in events]
        budget = CONNECT_TIMEOUT_SECONDS * 2 + current.ack_timeout_seconds + 1
        started = time.perf_counter()
        try:
            with self._one_batch_at_a_time:
                self._loop.run(self._publish(current, messages), timeout=budget)
        except TimeoutError:
            record_bus_publish("timeout", time.perf_counter() - started, count=len(messages))
            raise ReceiverUnavailable(f"NATS at {current.shown_url}: no answer within {budget} s") from None
        except Exception:
            record_bus_publish("failed", time.perf_counter() - started, count=len(messages))
            raise
        record_bus_publish("published", time.perf_counter() - started, count=len(messages))

    def close(self) -> None:
        """Drop the connection (tests, commands); the next batch connects again."""
        if self._session is not None:
            self._loop.run(self._drop(), timeout=CONNECT_TIMEOUT_SECONDS + 1)

    async def _publish(self, current: Bus, messages: list[Message]) -> None:
        session = await self._connected(current)
        largest = max(messages, key=lambda message: message.size, default=None)
        if largest is not None and largest.size > session.max_message_bytes:
            # The limit may have been raised since this connection read it: read it again first.
            session.max_message_bytes = _largest_message(session.client, await checked_stream(session.js, current))
            if largest.size > session.max_message_bytes:
                raise MessageRejected(
                    f"event {largest.event_id} ({largest.subject}) is {largest.size} bytes; "
                    f"stream {current.stream} takes at most {session.max_message_bytes}"
                )
        acks: list[asyncio.Future] = []
        try:
            for message in messages:
                acks.append(
                    await session.js.publish_async(
                        message.subject,
                        message.body,
                        headers={**message.headers},  # nats-py adds its stream header to the dict it is given
                        stream=current.stream,
                    )  # no wait_stall: it would yield to the flusher, one socket write per message
                )
            results = await self._acks(session, current, messages, acks)
        except (TimeoutError, nats.errors.Error, OSError) as error:
            for ack in acks:
                ack.cancel()
            await self._drop()
            raise ReceiverUnavailable(f"NATS at {current.shown_url}: {_told(error)}") from error
        refusal = _refusal(current, messages, results)
        if refusal is not None:
            await self._drop()  # the stream's limits may have changed: read them again on reconnect
            raise refusal

    async def _acks(self, session: _Session, current: Bus, messages: list[Message], acks: list) -> list:
        """Wait for every ack; return each message's PubAck or error, in order.

        nats-py 2.16 never resolves the future of a message JetStream refuses (nats-io/nats.py#985:
        the error escapes to the connection's error callback instead). When that callback sees a
        refusal, the messages without an ack are published again one at a time, where the error
        does come back; the ones already stored are dropped as duplicates by their Nats-Msg-Id.
        """
        gathered = asyncio.ensure_future(asyncio.gather(*acks, return_exceptions=True))
        refused = asyncio.ensure_future(session.refused.wait())
        done, _ = await asyncio.wait({gathered, refused}, timeout=current.ack_timeout_seconds,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        refused.cancel()
        if gathered in done:
            return gathered.result()
        if not session.refused.is_set():
            _cancel(gathered)
            raise TimeoutError(f"no ack within {current.ack_timeout_seconds} s")
        settled = [ack.result() if ack.done() and not ack.cancelled() else None for ack in acks]
        _cancel(gathered)
        session.refused.clear()
        results: list = []
        for message, ack in zip(messages, settled, strict=True):
            if ack is not None:
                results.append(ack)
                continue
            try:
                results.append(
                    await session.js.publish(
                        message.subject,
                        message.body,
                        timeout=current.ack_timeout_seconds,
                        stream=current.stream,
                        headers={**message.headers},
                    )
                )
            except APIError as error:
                return [*results, error]  # the first refusal decides the batch
        return results

    async def _connected(self, current: Bus) -> _Session:
        session = self._session
        if session is not None and session.bus == current and session.client.is_connected:
            return session
        await self._drop()
        refused = asyncio.Event()

        async def on_error(error: Exception) -> None:
            if isinstance(error, APIError):
                refused.set()  # an ack that nats-py could not hand to its future (see _acks)
            logger.warning("nats: %s", without_credentials(str(error)))

        try:
            client = await connect(
                current,
                name="orders nats relay",
                allow_reconnect=False,  # the runtime retries with backoff (runtime.receivers)
                error_cb=on_error,
                pending_size=64 * 1024 * 1024,
            )
        except Exception as error:  # nats-py raises several types for "nobody there"
            raise ReceiverUnavailable(f"NATS at {current.shown_url}: cannot connect ({_told(error)})") from None
        js = client.jetstream(publish_async_max_pending=MAX_ACKS_IN_FLIGHT)
        try:
            info = await checked_stream(js, current)
        except StreamUnfit:
            await client.close()
            raise
        except Exception as error:
            await client.close()
            raise ReceiverUnavailable(f"NATS at {current.shown_url}: stream info failed ({_told(error)})") from None
        self._session = _Session(current, client, js, _largest_message(client, info), refused)
        logger.info("nats relay connected to %s, stream %s", current.shown_url, current.stream)
        return self._session

    async def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.client.is_closed:
            try:
                await session.client.close()
            except Exception:  # closing a broken connection may fail: it is being discarded anyway
                logger.debug("closing the nats connection failed", exc_info=True)


def _largest_message(client: Client, info: StreamInfo) -> int:
    """The largest message the server and the stream take, in bytes."""
    stream_limit = info.config.max_msg_size or -1  # -1: the stream sets no limit of its own
    return client.max_payload if stream_limit < 0 else min(client.max_payload, stream_limit)


def _told(error: BaseException) -> str:
    """An error as it may be logged and shown: any URL in it without its credentials (ADR 0029)."""
    return without_credentials(f"{type(error).__name__} {error}".strip())


def _cancel(future: asyncio.Future) -> None:
    future.cancel()
    future.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved: no warning


def _refusal(current: Bus, messages: list[Message], results: list) -> Exception | None:
    """The error to raise for the batch's first refused message, or ``None`` when all were acked."""
    refused = next(((m, r) for m, r in zip(messages, results, strict=True) if isinstance(r, Exception)), None)
    if refused is None:
        return None
    message, error = refused
    if isinstance(error, NoStreamResponseError | ServiceUnavailableError) or (
        isinstance(error, APIError) and error.err_code == WRONG_STREAM
    ):
        return StreamUnfit(f"JetStream stream {current.stream} does not take {message.subject}: {error}")
    if not isinstance(error, APIError):
        return ReceiverUnavailable(f"NATS at {current.shown_url}: {_told(error)}")
    return MessageRejected(f"JetStream rejected event {message.event_id} ({message.subject}): {error}")
