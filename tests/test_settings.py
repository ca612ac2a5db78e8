"""Configuration from the environment: good values work, bad ones fail at start by name.

Settings are module-level, so each case starts a fresh ``manage.py`` process.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    not_inherited = {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "METRICS_TOKEN"}
    clean = {k: v for k, v in os.environ.items() if k not in not_inherited}
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
        METRICS_TOKEN=secrets.token_urlsafe(32),
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
        ("WEBHOOK_ALLOWED_PORTS", "443;80", "WEBHOOK_ALLOWED_PORTS: expected ports and ranges separated by commas"),
        ("WEBHOOK_ALLOWED_PORTS", "443,70000", "WEBHOOK_ALLOWED_PORTS: ports are 1 to 65535"),
        ("WEBHOOK_ALLOWED_PORTS", "9100-9000", "WEBHOOK_ALLOWED_PORTS: ports are 1 to 65535, low-high"),
        ("WEBHOOK_DEADLINE_MS", "50", "WEBHOOK_DEADLINE_MS: must be at least 100"),
        ("WEBHOOK_ENDPOINT_CONCURRENCY", "0", "WEBHOOK_ENDPOINT_CONCURRENCY: must be at least 1"),
    ],
)
def test_malformed_values_fail_at_start_naming_the_variable(variable, value, message):
    result = manage("check", **{"DEBUG": "true", variable: value})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REDIS_URL", "http://cacheuser:s3cret-Pa55word@127.0.0.1:6379/0"),
        ("DATABASE_URL", "postgres://dbuser:s3cret-Pa55word@[::1"),
    ],
)
def test_a_malformed_url_is_refused_without_echoing_its_password(variable, value):
    result = manage("check", **{"DEBUG": "true", variable: value})
    assert result.returncode != 0 and f"{variable}:" in result.stderr
    assert "s3cret-Pa55word" not in result.stderr


def test_debug_off_without_secret_key_fails_but_debug_uses_a_development_key():
    assert "SECRET_KEY: must be set" in manage("check", DEBUG="false", ALLOWED_HOSTS="x").stderr
    assert manage("check", DEBUG="true").returncode == 0


def test_debug_is_off_unless_set():
    result = manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)", SECRET_KEY=STRONG_KEY
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


STRONG_KEY = "k" + secrets.token_urlsafe(50)
METRICS_TOKEN = secrets.token_urlsafe(32)
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "ALLOWED_HOSTS": "shop.example.com",
    "METRICS_TOKEN": METRICS_TOKEN,
}


@pytest.mark.parametrize(
    "key",
    [
        "short-key",
        "django-insecure-" + "x" * 60,
        "ab" * 40,
        "django-insecure-development-only-key-never-use-in-production",
    ],
    ids=["short", "django-insecure-prefix", "few-distinct-characters", "the-development-key"],
)
def test_production_refuses_a_weak_secret_key_by_name(key):
    result = manage("check", SECRET_KEY=key, **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY: too weak for production" in result.stderr


@pytest.mark.parametrize("token", [None, "", "short-token-0123456789"], ids=["unset", "blank", "short"])
def test_production_refuses_to_start_without_a_metrics_token(token):
    """/metrics would answer anyone its business figures and run its queries per scrape (ADR 0026)."""
    env = {**PRODUCTION, "SECRET_KEY": STRONG_KEY}
    env.pop("METRICS_TOKEN")
    if token is not None:
        env["METRICS_TOKEN"] = token
    result = manage("check", **env)
    assert result.returncode != 0
    assert "METRICS_TOKEN: must be set with config.settings.production (32+ characters)" in result.stderr


def production_setting(expression: str, **env: str) -> str:
    code = f"from django.conf import settings; print({expression})"
    result = manage("shell", "--no-imports", "-c", code, SECRET_KEY=STRONG_KEY, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_static_files_are_collected_hashed_and_compressed_in_production_and_found_in_place_elsewhere():
    """Production serves collectstatic's output under hashed names (ADR 0026); the quick start and the
    tests (this process) find the apps' files where they are, so a page renders without collectstatic."""
    from django.conf import settings

    shown = (
        "settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS, settings.WHITENOISE_AUTOREFRESH"
    )
    assert production_setting(shown) == "whitenoise.storage.CompressedManifestStaticFilesStorage False False"
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert settings.WHITENOISE_USE_FINDERS is True and settings.WHITENOISE_AUTOREFRESH is True


def test_hsts_reach_and_the_proxy_header_are_explicit_choices():
    shown = "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD, settings.SECURE_PROXY_SSL_HEADER"
    assert production_setting(shown) == "False False None"
    chosen = production_setting(
        shown, SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true", SECURE_PROXY_SSL_HEADER="true"
    )
    assert chosen == "True True ('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.parametrize(
    "env",
    [{}, {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true", "SECURE_PROXY_SSL_HEADER": "true"}],
    ids=["defaults", "all-opted-in"],
)
def test_production_passes_the_deploy_check_whatever_the_choices(env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=STRONG_KEY, **PRODUCTION, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def gunicorn(port: int, **env: str) -> subprocess.Popen:
    """``gunicorn config.wsgi`` as a deployer would type it: no settings variable, no DEBUG."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "METRICS_TOKEN"}
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "SECRET_KEY: must be set"),
        ({"DEBUG": "true"}, "DEBUG: must be off with config.settings.production"),
        ({"SECRET_KEY": STRONG_KEY}, "METRICS_TOKEN: must be set with config.settings.production"),
    ],
    ids=["no-secret-key", "debug-asked-for", "no-metrics-token"],
)
def test_a_bare_gunicorn_refuses_to_start_without_a_secret_key_or_metrics_token_or_with_debug(env, expected):
    server = gunicorn(free_port(), **env)
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode != 0
    assert expected in stderr


def test_a_bare_gunicorn_with_a_secret_key_serves_production_pages_never_debug_ones():
    port = free_port()
    server = gunicorn(
        port, SECRET_KEY=STRONG_KEY, METRICS_TOKEN=METRICS_TOKEN, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false"
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # The socket is bound before the worker has loaded Django: a slow first answer is normal.
                urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/", timeout=30)
                raise AssertionError("a page that does not exist answered 200")
            except urllib.error.HTTPError as error:
                status, body, headers = error.code, error.read().decode(), error.headers
                break
            except (ConnectionError, TimeoutError, urllib.error.URLError):
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert status == 404
    assert "URLconf" not in body and "DEBUG = True" not in body  # Django's debug 404 names both
    assert headers["Strict-Transport-Security"] is None  # plain HTTP: HSTS is sent over HTTPS only
    assert headers["X-Frame-Options"] == "DENY"
