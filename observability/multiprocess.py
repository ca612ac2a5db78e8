"""prometheus-client's multiprocess mode: where the values of gunicorn's and django-q2's processes meet.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before Python starts: prometheus-client reads it at
import), every process writes its counters and histograms to files named after its pid in that
directory, and ``/metrics`` sums them. Counters of a process that exited stay (a counter never
goes back); ``mark_process_dead`` drops what only made sense while it lived (live gauges), and
``remove_files_of_dead_processes`` clears the leftovers of processes that are gone when gunicorn
starts, so the directory does not grow without bound across restarts.

gunicorn started without the variable gets a directory of its own for the run
(``per_run_directory``, called by ``gunicorn.conf.py``): each worker would otherwise count for
itself and ``/metrics`` would show whichever worker answered the scrape (ADR 0026).
"""

import os
import re
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Names the directory ``per_run_directory`` made, so a configuration reloaded by gunicorn (SIGHUP)
# still knows it is its own to remove at exit, and one a deployer chose is never removed.
_PER_RUN_VARIABLE = "ORDERS_PER_RUN_METRICS_DIR"
_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def directory() -> Path | None:
    value = os.environ.get(VARIABLE)
    return Path(value) if value else None


def per_run_directory() -> Path | None:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at a new, empty directory when it is unset; return it.

    Returns None when the deployer set the variable: theirs is shared with ``qcluster`` and kept.
    Must run before prometheus-client is imported (it reads the variable at import), so in
    gunicorn's master while its configuration loads: the workers it forks inherit it.
    """
    chosen = os.environ.get(VARIABLE)
    if chosen:
        return Path(chosen) if os.environ.get(_PER_RUN_VARIABLE) == chosen else None
    made = tempfile.mkdtemp(prefix="orders-metrics-")
    os.environ[VARIABLE] = os.environ[_PER_RUN_VARIABLE] = made
    return Path(made)


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
