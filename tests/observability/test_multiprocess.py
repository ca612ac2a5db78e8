"""The multiprocess directory's housekeeping: gunicorn's start removes only the files of processes that are gone."""

import os
import subprocess
import sys

from observability import multiprocess


def test_start_removes_the_files_of_dead_processes_and_keeps_the_living(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    for name in (f"counter_{dead_pid}.db", f"histogram_{dead_pid}.db", f"counter_{os.getpid()}.db", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    removed = multiprocess.remove_files_of_dead_processes()
    assert {path.name for path in removed} == {f"counter_{dead_pid}.db", f"histogram_{dead_pid}.db"}
    assert {path.name for path in tmp_path.iterdir()} == {f"counter_{os.getpid()}.db", "notes.txt"}


def test_without_the_directory_nothing_happens(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert multiprocess.remove_files_of_dead_processes() == []
    multiprocess.mark_process_dead(12345)  # no error, no directory needed
