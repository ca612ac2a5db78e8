"""The quick start on SQLite: migrate, seed, make the demo login, serve the admin login page.

This is what `make run` does on a fresh machine, minus the worker, in a throwaway database.
"""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.smoke
def test_quick_start_on_sqlite_serves_the_admin_login(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quickstart.sqlite3'}",
        "DEBUG": "true",  # as `make run` sets it (the settings default DEBUG off)
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "--noinput")
    manage("seed_demo", "--if-empty", "--customers", "10", "--products", "8", "--orders", "25", "--seed", "1")
    printed = manage("ensure_demo_user")
    assert "demo" in printed
    token = re.search(r"Authorization: Token ([0-9a-f]{64})", printed).group(1)
    database = sqlite3.connect(tmp_path / "quickstart.sqlite3")
    assert database.execute("pragma journal_mode").fetchone()[0] == "wal"
    database.close()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/admin/login/")
        assert "Orders admin" in body and 'name="username"' in body
        # The API on SQLite, with the printed token: the read-your-writes watermark has its own SQL there.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/orders/?limit=2&min_position=0", headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert int(response.headers["X-Projection-Position"]) >= 0
            assert set(json.loads(response.read())) == {"results", "next"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def _get_when_up(url: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
