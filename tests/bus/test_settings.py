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
