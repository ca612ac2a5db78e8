"""prometheus-client's multiprocess mode: where the values of gunicorn's and django-q2's processes meet.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before Python starts: prometheus-client reads it at
import), every process writes its counters and histograms to files named after its pid in that
directory, and ``/metrics`` sums them. Counters of a process that exited stay (a counter never
goes back); ``mark_process_dead`` drops what only made sense while it lived (live gauges), and
``remove_files_of_dead_processes`` clears the leftovers of processes that are gone when gunicorn
starts, so the directory does not grow without bound across restarts.
"""

import os
import re
from pathlib import Path

_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def directory() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def mark_process_dead(pid: int) -> None:
    """Tell prometheus-client that ``pid`` exited (gunicorn's ``child_exit`` hook)."""
    if directory() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def remove_files_of_dead_processes() -> list[Path]:
    """Delete the value files of processes that no longer run; return what was removed."""
    found = directory()
    if found is None:
        return []
    found.mkdir(parents=True, exist_ok=True)
    removed = []
    for path in found.glob("*.db"):
        match = _PID_IN_NAME.search(path.name)
        if match and not _running(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
