"""The two ways the README starts the web server, as subprocesses on the test database.

- ``quickstart``: what ``make run`` starts, ``manage.py runserver`` with ``DEBUG=true``; static
  files come from the apps' folders (WhiteNoise with the finders).
- ``production``: what ``make serve`` starts, from ``Procfile.production``: its ``release`` once
  (migrate, ``collectstatic`` into a ``STATIC_ROOT`` of the session's), then its ``web`` line
  (gunicorn, ``config.wsgi``, so the production settings, DEBUG off). Plain HTTP on the loopback
  (``SECURE_SSL_REDIRECT=false``), as behind a proxy that ends TLS.

Both run django-q2's tasks inline (``Q_SYNC``): a command's nudge drains the outbox in the web
process right after it commits, so no worker is needed. The database must hold committed data
(a transactional test): the server is another process.
"""

import os
import secrets
import sys
from pathlib import Path

from django.db import connection

from bench import stack

MODES = ("quickstart", "production")
BIN = Path(sys.executable).parent
METRICS_TOKEN = secrets.token_urlsafe(32)
# What the test process has (pytest-django's settings, the test database) and a server must not inherit.
_NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "READ_DATABASE_URL",
    "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "STATIC_ROOT", "GUNICORN_CMD_ARGS", "PORT", "Q_SYNC",
}  # fmt: skip


def database_url() -> str:
    """The test database's URL (its name is pytest-django's, ``test_…``)."""
    found = connection.settings_dict
    return f"postgres://{found['USER']}@{found['HOST'] or '127.0.0.1'}:{found['PORT'] or 5432}/{found['NAME']}"


def server_env(mode: str, *, static_root: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment a deployer would give the server in ``mode``, on the test database."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        DATABASE_URL=database_url(),
        Q_SYNC="true",
        PYTHONUNBUFFERED="1",
    )
    if mode == "quickstart":
        env["DEBUG"] = "true"  # as `make run` sets it
    else:
        env.update(
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            METRICS_TOKEN=METRICS_TOKEN,
            SECURE_SSL_REDIRECT="false",
            STATIC_ROOT=str(static_root),
        )
    env.update(extra)
    return env


def release(static_root: Path, **extra: str) -> None:
    """``Procfile.production``'s release step (migrate, collectstatic), run by honcho as ``make serve`` does."""
    env = server_env("production", static_root=static_root, **extra)
    child = stack.Child("release", [str(BIN / "honcho"), "--procfile", "Procfile.production", "start", "release"], env)
    child.start()
    try:
        returncode = child.process.wait(timeout=300)
    finally:
        child.stop()
    assert returncode == 0, child.log_text()[-4000:]


def start(mode: str, *, static_root: Path | None = None, workers: int = 2, **extra: str) -> tuple[stack.Child, str]:
    """Start the server of ``mode`` on a free port; return it and its base URL once it answers."""
    port = stack.free_port()
    if mode == "quickstart":
        args = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        env = server_env(mode, **extra)
    else:
        args = [str(BIN / "honcho"), "--procfile", "Procfile.production", "start", "web"]
        gunicorn_args = f"--bind 127.0.0.1:{port} --workers {workers}"
        env = server_env(mode, static_root=static_root, GUNICORN_CMD_ARGS=gunicorn_args, **extra)
    child = stack.Child(f"{mode}-{port}", args, env).start()
    try:
        stack.wait_for_http(port, "/health/live", child=child)
    except BaseException:
        child.stop()
        raise
    return child, f"http://127.0.0.1:{port}"
