"""Run ``manage.py`` commands as real child processes against a given database."""

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def current_database_url(**query: str) -> str:
    """The URL of the database this test process is connected to (PostgreSQL, trust auth)."""
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return f"{url}?{urlencode(query)}" if query else url


def child_env(database_url: str) -> dict[str, str]:
    """This process's environment for a child that picks its own settings and uses ``database_url``."""
    inherited = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    return {**inherited, "DATABASE_URL": database_url}


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run a management command to completion; fail the test with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Qcluster:
    """A ``manage.py qcluster`` child whose output is drained by a thread, so its pipe never fills."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env={**env, "Q_WORKERS": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_until_running(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            if "running" in line:
                return
        raise AssertionError("qcluster did not start:\n" + "".join(self.output))

    def stop(self) -> None:
        """SIGTERM (a clean cluster shutdown), SIGKILL if it lingers; always reaped."""
        stop(self.process, graceful=True)
        self._reader.join(timeout=5)


def stop(process: subprocess.Popen, *, graceful: bool = False, timeout: float = 20) -> None:
    """End a child and reap it; never leaves it running.

    A child started with ``start_new_session=True`` leads its own process group: the SIGKILL
    fallback goes to that group, so workers it forked do not outlive it.
    """
    if process.poll() is None and graceful:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    if process.poll() is None:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    process.wait(timeout=timeout)
