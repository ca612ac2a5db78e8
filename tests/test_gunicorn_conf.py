"""gunicorn.conf.py's worker hook: what a worker has loaded is frozen out of the collector's passes."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded():
    hooks = runpy.run_path(str(CONF))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 1000  # Django and the project are loaded in this process
    finally:
        gc.unfreeze()
