"""gunicorn.conf.py's worker hook: what a worker has loaded is frozen out of the collector's passes,
and the API learns how many threads the worker has (its long-polls leave one free, ADR 0028)."""

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

from api.waits import feed_waits_per_process, serve_threads

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded():
    hooks = runpy.run_path(str(CONF))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](worker=SimpleNamespace(cfg=SimpleNamespace(threads=2)))
        assert gc.get_freeze_count() > 1000  # Django and the project are loaded in this process
        assert feed_waits_per_process() == 1  # two threads: one long-poll, one thread kept free
    finally:
        gc.unfreeze()
        serve_threads(None)
