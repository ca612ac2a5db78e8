"""gunicorn.conf.py: a worker freezes what it loaded out of the collector's passes and tells the
API its thread count (long-polls leave one free, ADR 0028); a run without
``PROMETHEUS_MULTIPROC_DIR`` gets a metrics directory of its own (the real gunicorn case is in
tests/observability/test_gunicorn_metrics.py)."""

import gc
import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from api.waits import feed_waits_per_process, serve_threads

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "ORDERS_PER_RUN_METRICS_DIR")


@pytest.fixture
def no_metrics_directory():
    """Neither variable set, and both as they were afterwards: the configuration sets them in this
    process's environment, which every later test and child process would inherit."""
    saved = {name: os.environ.pop(name, None) for name in VARIABLES}
    yield
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


def test_a_worker_freezes_what_it_loaded(no_metrics_directory, tmp_path):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)  # chosen: the configuration makes none
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


def test_a_run_without_a_metrics_directory_makes_one_and_removes_it_at_exit(no_metrics_directory):
    hooks = runpy.run_path(str(CONF))
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir() and not any(made.iterdir())
    reloaded = runpy.run_path(str(CONF))  # gunicorn reads its configuration again on SIGHUP
    assert Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]) == made == reloaded["_per_run_metrics"]
    reloaded["on_exit"](server=None)
    assert not made.exists()
    assert hooks["_per_run_metrics"] == made


def test_a_chosen_metrics_directory_is_kept(no_metrics_directory, tmp_path):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    hooks = runpy.run_path(str(CONF))
    assert hooks["_per_run_metrics"] is None
    hooks["on_exit"](server=None)
    assert tmp_path.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
