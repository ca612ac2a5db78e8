"""The bus's credentials (ADR 0029): never sent in clear when TLS was asked for, never shown anywhere.

A fake server on 127.0.0.1 that sends an INFO line without ``tls_required`` stands for a server
set up without TLS, or anyone in the middle: it records what the relay sends. Real nats-servers
show TLS, an NKey seed and a password in the URL working end to end.
"""

import asyncio
import base64
import json
import logging
import os

import nkeys
import pytest

from bus.client import connect
from bus.config import bus
from config.rights import MANAGE_PROJECTIONS, VIEW_REPORTS
from projections.runtime.loop import drain
from projections.runtime.status import ConsumerHealth, consumer_health
from tests.admin.staff import login
from tests.api.conftest import client_for, make_user
from tests.bus.certificates import make_certificates
from tests.bus.conftest import PrivateNats, free_port, stream_messages, use_bus
from tests.bus.fake_nats import FakeNats
from tests.bus.shop import seed_shop
from tests.read_tables import empty_read_tables

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "s3cret-Pa55word"


def health(name: str) -> ConsumerHealth:
    return next(row for row in consumer_health() if row.name == name)


@pytest.fixture
def fake_nats():
    server = FakeNats()
    yield server
    server.close()


@pytest.fixture
def certificates(tmp_path):
    return make_certificates(tmp_path)


def relay_on(settings, url: str, **bus_settings):
    """Point the relay at ``url`` without setting a stream up (the server may be a fake)."""
    empty_read_tables()
    settings.NATS_URL = url
    for name, value in bus_settings.items():
        setattr(settings, name, value)
    if "bus.relay.NatsRelay" not in settings.CONSUMERS:
        settings.CONSUMERS = [*settings.CONSUMERS, "bus.relay.NatsRelay"]


@pytest.mark.parametrize(
    ("scheme", "bus_settings", "refusal"),
    [
        ("tls", {}, "TLS is required but the server"),
        ("nats", {"NATS_TLS_CA": "ca"}, "TLS is required but the server"),  # TLS settings require it too
        # The handshake goes first: the fake's INFO line is no TLS answer (an SSL error, or a timeout).
        ("tls", {"NATS_TLS_HANDSHAKE_FIRST": True}, "cannot connect"),
    ],
)
def test_when_tls_is_required_a_server_that_does_not_offer_it_never_gets_the_password(
    settings, fake_nats, certificates, scheme, bus_settings, refusal
):
    if bus_settings.get("NATS_TLS_CA") == "ca":
        bus_settings = {**bus_settings, "NATS_TLS_CA": str(certificates.ca)}
    relay_on(settings, f"{scheme}://relayuser:{PASSWORD}@127.0.0.1:{fake_nats.port}", **bus_settings)
    seed_shop(orders=1)

    assert drain("nats") == 0
    assert PASSWORD.encode() not in fake_nats.received
    assert b"CONNECT" not in fake_nats.received  # not a byte of the protocol in clear
    row = health("nats")
    assert row.state == "receiver_unavailable" and row.lag_events > 0  # nothing published, nothing skipped
    assert refusal in row.last_error and PASSWORD not in row.last_error, row.last_error
    if bus_settings.get("NATS_TLS_HANDSHAKE_FIRST"):
        assert fake_nats.received.startswith(b"\x16\x03")  # a TLS ClientHello, nothing else


def test_the_relay_publishes_over_tls_to_a_server_that_requires_it(settings, session_stream, certificates, tmp_path):
    server = PrivateNats(
        tmp_path / "jetstream",
        *("--tls", "--tlscert", str(certificates.cert), "--tlskey", str(certificates.key)),
        *("--user", "relayuser", "--pass", PASSWORD),
        scheme="tls",
    )
    server.start()
    try:
        empty_read_tables()
        settings.NATS_TLS_CA = str(certificates.ca)
        relay = use_bus(settings, server.url.replace("tls://", f"tls://relayuser:{PASSWORD}@"), session_stream)
        seed_shop(orders=2)
        published = drain("nats")
        relay.close()
        assert published > 0
        assert len(stream_messages()) == published
    finally:
        server.stop()


def _user_seed(tmp_path) -> tuple[nkeys.KeyPair, bytes]:
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    return nkeys.from_seed(bytearray(seed)), seed


def test_an_nkey_seed_file_authenticates_the_relay_without_a_secret_in_the_url(settings, session_stream, tmp_path):
    user, seed = _user_seed(tmp_path)
    seed_file = tmp_path / "relay.nk"
    seed_file.write_bytes(seed)
    config = tmp_path / "nats.conf"
    config.write_text(f'authorization {{ users = [ {{ nkey: "{user.public_key.decode()}" }} ] }}\n')
    server = PrivateNats(tmp_path / "jetstream", "-c", str(config))
    server.start()
    try:
        empty_read_tables()
        settings.NATS_NKEY_SEED_FILE = str(seed_file)
        relay = use_bus(settings, server.url, session_stream)
        seed_shop(orders=2)
        published = drain("nats")
        relay.close()
        assert published > 0 and len(stream_messages()) == published

        settings.NATS_NKEY_SEED_FILE = None  # without the seed the server refuses: the NKey did the work
        with pytest.raises(Exception, match="Authorization"):
            asyncio.run(connect(bus(), allow_reconnect=False))
    finally:
        server.stop()


def test_a_creds_file_answers_the_servers_nonce_with_its_jwt_and_signature_and_no_password(settings, tmp_path):
    user, seed = _user_seed(tmp_path)
    jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln"  # the server checks it; this one is a stand-in
    creds = tmp_path / "relay.creds"
    creds.write_text(
        f"-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n"
        f"-----BEGIN USER NKEY SEED-----\n{seed.decode()}\n------END USER NKEY SEED------\n"
    )
    nonce = "nonce-from-the-fake-server"
    server = FakeNats({"nonce": nonce})
    try:
        settings.NATS_URL = f"nats://127.0.0.1:{server.port}"
        settings.NATS_CREDS = str(creds)

        async def connect_once():
            client = await connect(bus(), allow_reconnect=False)
            await client.close()

        asyncio.run(connect_once())
        connect_line = next(line for line in server.received.split(b"\r\n") if line.startswith(b"CONNECT "))
    finally:
        server.close()
    sent = json.loads(connect_line.removeprefix(b"CONNECT "))
    assert sent["jwt"] == jwt
    assert user.verify(nonce.encode(), base64.b64decode(sent["sig"]))
    assert "pass" not in sent and "user" not in sent


def test_the_urls_password_appears_in_no_log_line_error_api_answer_or_admin_page(settings, session_stream, caplog):
    caplog.set_level(logging.DEBUG)
    empty_read_tables()
    relay = use_bus(settings, f"nats://relayuser:{PASSWORD}@127.0.0.1:4222", session_stream)  # takes any user
    seed_shop(tag="up", orders=1)
    assert drain("nats") > 0  # connected: the INFO line names the server
    relay.close()
    dead = free_port()
    settings.NATS_URL = f"nats://relayuser:{PASSWORD}@127.0.0.1:{dead},tls://{PASSWORD}@127.0.0.1:{dead}"
    seed_shop(tag="down", orders=1)
    assert drain("nats") == 0

    row = health("nats")
    assert row.state == "receiver_unavailable"
    assert f"NATS at nats://127.0.0.1:{dead},tls://127.0.0.1:{dead}: cannot connect" in row.last_error
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "nats relay connected to nats://127.0.0.1:4222" in logged
    api = client_for(make_user(VIEW_REPORTS, MANAGE_PROJECTIONS)).get("/api/projections/")
    assert api.status_code == 200 and "cannot connect" in api.content.decode()
    staff = login(VIEW_REPORTS, MANAGE_PROJECTIONS)
    admin_page = staff.get("/admin/projections/projectionhealth/")
    dashboard = staff.get("/dashboard/")
    assert admin_page.status_code == 200 and "cannot connect" in admin_page.content.decode()
    assert dashboard.status_code == 200 and "cannot connect" in dashboard.content.decode()
    pages = (api.content.decode(), admin_page.content.decode(), dashboard.content.decode())
    for shown in (row.last_error, logged, *pages):
        assert PASSWORD not in shown
        assert "relayuser" not in shown
