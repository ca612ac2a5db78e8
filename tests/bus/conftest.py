"""The bus tests run against a real nats-server with JetStream.

The server at 127.0.0.1:4222 is shared with other test runs, and JetStream refuses two streams
whose subjects overlap: each session uses a stream name and subject prefix of its own and
deletes its stream afterwards. Tests that stop the server start a private one (``private_nats``).
"""

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import nats
import pytest
from django.core.management import call_command

from bus.client import connect
from bus.config import bus
from bus.tail import pull
from projections.runtime.registry import consumers
from tests.read_tables import empty_read_tables

SHARED_NATS = "nats://127.0.0.1:4222"
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
SESSION_TAG = uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def session_stream():
    """A stream name and subject prefix no other run uses; the stream is deleted at the end."""
    names = {"NATS_STREAM": f"TEST_{SESSION_TAG}", "NATS_SUBJECT_PREFIX": f"test_{SESSION_TAG}.orders.events"}
    yield names
    asyncio.run(_delete_stream(SHARED_NATS, names["NATS_STREAM"]))


async def _delete_stream(url: str, stream: str) -> None:
    try:
        client = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
    except Exception:
        return
    try:
        await client.jetstream().delete_stream(stream)
    except Exception:
        pass
    finally:
        await client.close()


def use_bus(settings, url: str, names: dict[str, str]):
    settings.NATS_URL = url
    settings.NATS_STREAM = names["NATS_STREAM"]
    settings.NATS_SUBJECT_PREFIX = names["NATS_SUBJECT_PREFIX"]
    if "bus.relay.NatsRelay" not in settings.CONSUMERS:
        settings.CONSUMERS = [*settings.CONSUMERS, "bus.relay.NatsRelay"]
    call_command("nats_setup", stdout=open("/dev/null", "w"))  # noqa: SIM115
    asyncio.run(_purge())
    return consumers()["nats"]


async def _purge() -> None:
    current = bus()
    client = await connect(current)  # with the bus's credentials and TLS, as the relay connects
    try:
        await client.jetstream().purge_stream(current.stream)
    finally:
        await client.close()


@pytest.fixture
def nats_relay(settings, session_stream, transactional_db):
    """The NATS relay configured on the shared server, on this session's (emptied) stream."""
    empty_read_tables()
    relay = use_bus(settings, SHARED_NATS, session_stream)
    yield relay
    relay.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateNats:
    """A nats-server of the test's own (stop and start it at will; its file store survives)."""

    def __init__(self, store: Path, *options: str, scheme: str = "nats") -> None:
        self.port = free_port()
        self.store = store
        self.options = options  # more nats-server flags: TLS, a config file with users
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store), *self.options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private nats-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_nats(tmp_path):
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


def stream_messages(subject: str | None = None) -> list:
    """Every message in the configured stream on ``subject`` (default: all), in stream order."""
    current = bus()

    async def read():
        client = await connect(current)
        try:
            js = client.jetstream()
            return [m async for m in pull(js, stream=current.stream, subject=subject or current.subjects,
                                          idle_seconds=0.5)]  # fmt: skip
        finally:
            await client.close()

    return asyncio.run(read())
