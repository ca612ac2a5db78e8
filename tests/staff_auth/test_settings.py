"""The production settings require staff two-factor and end idle sessions; local runs do neither."""

from tests.test_settings import manage, production_setting

SETTINGS = "(settings.STAFF_2FA, settings.SESSION_IDLE_TIMEOUT_MINUTES, settings.SESSION_COOKIE_AGE // 3600)"


def test_production_defaults_to_required_two_factor_a_30_minute_idle_timeout_and_12_hour_logins():
    assert production_setting(SETTINGS) == "('required', 30, 12)"
    chosen = {"STAFF_2FA": "optional", "SESSION_IDLE_TIMEOUT_MINUTES": "15", "SESSION_MAX_HOURS": "8"}
    assert production_setting(SETTINGS, **chosen) == "('optional', 15, 8)"


def test_local_runs_default_to_optional_two_factor_and_no_idle_timeout():
    result = manage("shell", "--no-imports", "-c", f"from django.conf import settings; print({SETTINGS})", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('optional', 0, 336)"


def test_a_malformed_value_fails_at_start_naming_the_variable():
    result = manage("check", DEBUG="true", STAFF_2FA="yes")
    assert result.returncode != 0
    assert "STAFF_2FA: expected required or optional" in result.stderr
