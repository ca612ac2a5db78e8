"""Configuration from the environment: good values work, bad ones fail at start by name.

Settings are module-level, so each case starts a fresh ``manage.py`` process.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="shop.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY: must be set when DEBUG is off" in result.stderr


def test_production_refuses_debug():
    result = manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.production", DEBUG="true", SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode != 0
    assert "DEBUG: must be off" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG: expected one of true/false"),
        ("DATABASE_URL", "mysql://root@localhost/shop", "DATABASE_URL: unsupported database 'mysql'"),
        ("DATABASE_URL", "not a url", "DATABASE_URL:"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: expected a redis:// URL"),
        ("SHOP_CURRENCY", "euro", "SHOP_CURRENCY: expected an ISO 4217 code"),
        ("Q_WORKERS", "many", "Q_WORKERS: expected an integer"),
        ("Q_WORKERS", "0", "Q_WORKERS: must be at least 1"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR"),
        ("READ_DATABASE_URL", "mysql://root@localhost/read", "READ_DATABASE_URL: unsupported database 'mysql'"),
        ("DATABASE_CONN_MAX_AGE", "-1", "DATABASE_CONN_MAX_AGE: must be at least 0"),
        ("COMMAND_THROTTLE_RATE", "none", "COMMAND_THROTTLE_RATE: expected a rate such as 600/min"),
    ],
)
def test_malformed_values_fail_at_start_naming_the_variable(variable, value, message):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_off_without_secret_key_fails_but_debug_uses_a_development_key():
    assert "SECRET_KEY: must be set" in manage("check", DEBUG="false", ALLOWED_HOSTS="x").stderr
    assert manage("check", DEBUG="true").returncode == 0
