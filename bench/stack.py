"""Start and stop the real stack for benchmarks and fault drills: databases, gunicorn, qclusters.

Only the standard library and psycopg run here, so a harness that imports this module stays a
plain client of the system it measures. Every child runs ``manage.py`` (or gunicorn) with its
own environment, in its own process group, logging to ``var/bench-logs/`` (created on first use).

The harnesses' databases live on the PostgreSQL server ``DATABASE_URL`` names (its user, host
and port; the database part is ignored), ``postgres://postgres@127.0.0.1:5432`` when it is unset,
so a harness runs against whatever server the test suite uses. Each harness drops and creates
the databases it names there.

Measured runs take ``bench_lock()``: PostgreSQL's drain horizon (``pg_snapshot_xmin``) and the
two cores are shared by every database on the server, so two measured runs at once distort
each other (one run's long transaction holds back the other's drain). The lock is a file,
``$ORDERS_BENCH_LOCK``, by default ``orders-bench.lock`` in the system's temporary directory
(``tempfile.gettempdir()``): one per machine, whichever clone the harness runs from.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOG_DIR = ROOT / "var" / "bench-logs"
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379"
LOCK_PATH_VARIABLE = "ORDERS_BENCH_LOCK"
LOCK_HELD_VARIABLE = "ORDERS_BENCH_LOCK_HELD"
# ``on``: children log JSON at INFO and share a PROMETHEUS_MULTIPROC_DIR (the observability overhead runs).
OBSERVABILITY_VARIABLE = "ORDERS_BENCH_OBSERVABILITY"


def lock_path() -> Path:
    return Path(os.environ.get(LOCK_PATH_VARIABLE) or Path(tempfile.gettempdir()) / "orders-bench.lock")


@contextlib.contextmanager
def bench_lock() -> Iterator[None]:
    """Hold the machine-wide benchmark lock (blocks until other measured runs finish).

    Re-entrant across processes: a harness started by one that holds the lock (it inherits
    ``LOCK_HELD_VARIABLE``) runs at once instead of waiting for its own parent. Do not wrap a
    harness in ``flock(1)`` on the same file: it would wait for the wrapper for ever.
    """
    if os.environ.get(LOCK_HELD_VARIABLE):
        yield
        return
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.environ[LOCK_HELD_VARIABLE] = "1"
        try:
            yield
        finally:
            del os.environ[LOCK_HELD_VARIABLE]
            fcntl.flock(handle, fcntl.LOCK_UN)


def database_url(name: str) -> str:
    """The URL of database ``name`` on the server ``DATABASE_URL`` names."""
    server = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL)
    if server.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(f"the benchmarks need PostgreSQL: DATABASE_URL is {server.scheme}://…, not postgres://…")
    return urlunsplit(server._replace(path=f"/{name}"))


def create_database(name: str, *, template: str | None = None) -> str:
    """Drop (if it exists) and create a database, empty or a copy of ``template``; return its URL."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return database_url(name)


def require_database(name: str, *, made_by: str) -> str:
    """Return the URL of an existing database; stop with how to make it when there is none."""
    with psycopg.connect(database_url("postgres")) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not found:
        raise SystemExit(f"no database {name!r} on the server of DATABASE_URL; load it first:\n    {made_by}")
    return database_url(name)


@functools.cache
def postgres_control() -> tuple[str, ...]:
    """The control command of the server of ``DATABASE_URL``; append the action (``restart -m immediate``).

    No PostgreSQL version is assumed: a Debian cluster (``cluster_name`` such as ``15/main``) goes
    through ``pg_ctlcluster`` with the version and name it reports (its own log file, no systemd);
    any other server through the ``pg_ctl`` beside the binary it runs (``postmaster.opts``), as
    the data directory's owner when the caller is root. Either way ``restart`` keeps the server's
    own options and starts a stopped server too. The server must be on this machine. Cached: ask
    while the server answers, use it while it is down.
    """
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        data = Path(connection.execute("SHOW data_directory").fetchone()[0])
        version, _, cluster = connection.execute("SHOW cluster_name").fetchone()[0].partition("/")
    if cluster and shutil.which("pg_ctlcluster"):
        return ("pg_ctlcluster", "--skip-systemctl-redirect", version, cluster)
    try:
        binary = Path(shlex.split((data / "postmaster.opts").read_text())[0])
    except OSError as error:
        raise RuntimeError(f"cannot control the PostgreSQL server of {data} from here: {error}") from error
    command = (str(binary.with_name("pg_ctl")), "-D", str(data), "-w")
    owner = data.stat().st_uid
    if os.geteuid() == 0 and owner != 0:
        command = ("runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *command)
    return command


def restart_postgres(*options: str) -> None:
    """Restart the server of ``DATABASE_URL`` (or start it with its own options when it is down)."""
    with log_file("postgres").open("a") as log:  # the restarted server writes to it too, not to a pipe
        subprocess.run([*postgres_control(), "restart", *options], stdout=log, stderr=subprocess.STDOUT,
                       check=True, timeout=120)  # fmt: skip


def log_file(name: str) -> Path:
    """``var/bench-logs/<name>.log``, its directory created on first use."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return LOG_DIR / f"{name}.log"


def stack_env(url: str, *, read_url: str | None = None, redis: bool = False, **extra: str) -> dict[str, str]:
    """The environment of a production-like child: DEBUG off, no throttle in the way.

    ``read_url`` puts the read side on its own database (``READ_DATABASE_URL``); ``redis`` uses
    django-q2's Redis broker and the Redis cache (``REDIS_URL``): the scale-out configuration.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "READ_DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        COMMAND_THROTTLE_RATE="1000000/s",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if os.environ.get(OBSERVABILITY_VARIABLE) == "on":
        env.update(observability_env())
    if read_url:
        env["READ_DATABASE_URL"] = read_url
    if redis:
        env["REDIS_URL"] = REDIS_URL
    env.update(extra)
    return env


def observability_env() -> dict[str, str]:
    """What turns on JSON logs at INFO and metrics shared across processes (ADR 0024)."""
    return {
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="orders-metrics-"),
    }


def manage(env: dict[str, str], *args: str, timeout: float = 3600) -> str:
    """Run a management command to completion and return its output; raise with it on failure."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def migrate(env: dict[str, str]) -> None:
    """Migrate the write database and, with ``READ_DATABASE_URL``, the read one."""
    manage(env, "migrate", "--noinput")
    if "READ_DATABASE_URL" in env:
        manage(env, "migrate", "--noinput", "--database", "read")


def bench_superuser(env: dict[str, str], username: str, password: str) -> None:
    """Make ``username`` an active superuser with ``password`` (``ensure_demo_user`` is DEBUG-only)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        f"user, _ = get_user_model().objects.get_or_create(username={username!r})\n"
        "user.is_active = user.is_staff = user.is_superuser = True\n"
        f"user.set_password({password!r})\n"
        "user.save()"
    )
    manage(env, "shell", "-c", code)


def api_token(env: dict[str, str], username: str = "bench") -> str:
    """Make ``username`` a superuser and return a new REST API token of theirs."""
    bench_superuser(env, username, "bench-password-123")
    return manage(env, "create_api_token", username, "--name", "bench").strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Child:
    """A child process in its own process group, its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = log_file(self.name)

    def start(self) -> Child:
        with self.log_path.open("a") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')} {' '.join(self.args)}\n")
            log.flush()
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (a qcluster's workers die with it) and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it lingers; never leaves it running.

        SIGTERM goes to the leader only: gunicorn's master and the qcluster's sentinel stop their
        own children in order (a qcluster whose workers get SIGTERM too never finishes stopping).
        """
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):  # stray grandchildren
            os.killpg(self.process.pid, signal.SIGKILL)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_web(env: dict[str, str], *, workers: int = 3, threads: int = 4, port: int | None = None) -> tuple[Child, str]:
    """Start gunicorn on a free port; return it and its base URL once ``/health/live`` answers."""
    port = port or free_port()
    args = [
        str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--keep-alive", "30", "--access-logfile", "-" if env.get("BENCH_ACCESS_LOG") else "/dev/null",
    ]  # fmt: skip
    web = Child(f"web-{port}", args, env).start()
    wait_for_http(port, "/health/live", child=web)
    return web, f"http://127.0.0.1:{port}"


def start_qcluster(env: dict[str, str], *, name: str = "qcluster", workers: int = 1, timeout: float = 60) -> Child:
    """Start ``manage.py qcluster`` and wait until its log says the cluster is running."""
    # django-q2 says "running" at INFO, so the cluster logs at INFO whatever the web does.
    env = {**env, "Q_WORKERS": str(workers), "LOG_LEVEL": "INFO"}
    child = Child(name, [PYTHON, "manage.py", "qcluster"], env).start()
    start = child.log_path.stat().st_size
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{name} exited:\n{child.log_text()[-4000:]}")
        with child.log_path.open() as log:
            log.seek(start)
            if "running" in log.read():
                return child
        time.sleep(0.1)
    child.stop()
    raise RuntimeError(f"{name} did not start within {timeout} s:\n{child.log_text()[-4000:]}")


def wait_for_http(port: int, path: str, *, child: Child | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise RuntimeError(f"{child.name} exited:\n{child.log_text()[-4000:]}")
        with contextlib.suppress(OSError):
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered 200 on 127.0.0.1:{port}{path} within {timeout} s")
