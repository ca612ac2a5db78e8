"""The production settings require staff two-factor and end idle sessions; local runs do neither."""

from tests.test_settings import manage, production_setting

SETTINGS = "(settings.STAFF_2FA, settings.SESSION_IDLE_TIMEOUT_MINUTES)"


def test_production_defaults_to_required_two_factor_and_a_30_minute_idle_timeout():
    assert production_setting(SETTINGS) == "('required', 30)"
    assert production_setting(SETTINGS, STAFF_2FA="optional", SESSION_IDLE_TIMEOUT_MINUTES="15") == "('optional', 15)"


def test_local_runs_default_to_optional_two_factor_and_no_idle_timeout():
    result = manage("shell", "--no-imports", "-c", f"from django.conf import settings; print({SETTINGS})", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('optional', 0)"


def test_a_malformed_value_fails_at_start_naming_the_variable():
    result = manage("check", DEBUG="true", STAFF_2FA="yes")
    assert result.returncode != 0
    assert "STAFF_2FA: expected required or optional" in result.stderr
