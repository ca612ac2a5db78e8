"""The bus's settings: the relay exists only with NATS_URL, and bad values fail at start by name."""

import pytest

from tests.test_settings import manage as manage_with


def manage(*args: str, **env: str):
    """Run a management command as in development (DEBUG on), so only the bus's settings are at stake."""
    return manage_with(*args, DEBUG="true", **env)


PRINT_CONSUMERS = "from django.conf import settings; print(settings.CONSUMERS)"


def test_the_relay_is_a_consumer_only_when_nats_url_is_set():
    without = manage("shell", "-c", PRINT_CONSUMERS, NATS_URL="")
    with_nats = manage("shell", "-c", PRINT_CONSUMERS, NATS_URL="nats://127.0.0.1:4222")
    assert without.returncode == 0 and with_nats.returncode == 0, without.stderr + with_nats.stderr
    assert "bus.relay.NatsRelay" not in without.stdout
    assert "bus.relay.NatsRelay" in with_nats.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NATS_URL", "127.0.0.1:4222", "NATS_URL: expected nats:// URLs"),
        ("NATS_STREAM", "ORDERS.v2", "NATS_STREAM: expected a stream name"),
        ("NATS_SUBJECT_PREFIX", "orders.>", "NATS_SUBJECT_PREFIX: expected subject tokens"),
        ("NATS_MAX_AGE_SECONDS", "a week", "NATS_MAX_AGE_SECONDS: expected an integer"),
        ("NATS_DUPLICATE_WINDOW_SECONDS", "0", "NATS_DUPLICATE_WINDOW_SECONDS: must be at least 1"),
        ("NATS_MAX_BYTES", "-5", "NATS_MAX_BYTES: must be at least 0"),
        ("NATS_CREDS", "/nonexistent/relay.creds", "NATS_CREDS: no such file"),
        ("NATS_TLS_CA", "/nonexistent/ca.pem", "NATS_TLS_CA: no such file"),
        ("NATS_TLS_CERT", "manage.py", "NATS_TLS_CERT, NATS_TLS_KEY: a client certificate needs both"),
        ("NATS_TLS_HANDSHAKE_FIRST", "perhaps", "NATS_TLS_HANDSHAKE_FIRST: expected one of true/false"),
    ],
)
def test_malformed_bus_settings_fail_at_start_naming_the_variable(variable, value, message):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_nats_setup_refuses_a_duplicate_window_shorter_than_the_retry_horizon():
    result = manage("nats_setup", NATS_URL="nats://127.0.0.1:4222", NATS_DUPLICATE_WINDOW_SECONDS="60")
    assert result.returncode != 0
    assert "NATS_DUPLICATE_WINDOW_SECONDS: 60 s is shorter than the relay needs" in result.stderr


def test_a_malformed_nats_url_is_refused_without_echoing_its_password():
    result = manage("check", NATS_URL="http://relayuser:s3cret-Pa55word@127.0.0.1:4222")
    assert result.returncode != 0
    assert "NATS_URL: expected nats:// URLs separated by commas, got 'http://127.0.0.1:4222'" in result.stderr
    assert "s3cret-Pa55word" not in result.stderr and "relayuser" not in result.stderr


def test_tls_settings_refuse_a_plain_websocket_url():
    result = manage("check", NATS_URL="ws://127.0.0.1:8080", NATS_TLS_HANDSHAKE_FIRST="true")
    assert result.returncode != 0
    assert "NATS_URL: TLS is required (a tls:// URL or NATS_TLS_*): use wss://, not ws://" in result.stderr
