"""gunicorn's settings and hooks (read by gunicorn from the working directory).

gunicorn's workers write their metric values to files in ``PROMETHEUS_MULTIPROC_DIR`` and
``/metrics`` sums them; see ``observability/multiprocess.py`` and ADR 0024. Without the
variable, this run gets a directory of its own, removed when gunicorn exits (ADR 0026).
"""

import gc
import shutil

from observability.multiprocess import mark_process_dead, per_run_directory, remove_files_of_dead_processes

# Here, as the configuration loads, not in a hook: before any worker (or --preload) imports
# prometheus-client, which reads the variable at import.
_per_run_metrics = per_run_directory()

# Threaded workers (ADR 0028): a long-poll of the event feed or a read-your-writes wait holds a
# thread, not the worker, and long-polls never hold every thread (``api.waits.serve_threads``),
# so /health/live and other requests are answered while they wait. ``--threads``/``--workers``
# on the command line (or GUNICORN_CMD_ARGS) override these.
worker_class = "gthread"
threads = 8

# Long query strings reach Django, which answers an over-long one in the API's JSON error shape;
# at gunicorn's default (4094) gunicorn itself answers 414 with an HTML page (ADR 0023).
limit_request_line = 8190


def on_starting(server):
    if _per_run_metrics is not None:
        server.log.info(
            "PROMETHEUS_MULTIPROC_DIR is unset: the workers' metrics meet in %s for this run; "
            "set it to one directory shared with qcluster to see the drain's metrics on /metrics too",
            _per_run_metrics,
        )
    remove_files_of_dead_processes()


def on_exit(server):
    if _per_run_metrics is not None:
        shutil.rmtree(_per_run_metrics, ignore_errors=True)


def child_exit(server, worker):
    mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Tell the API how many threads the worker has (its long-polls leave one free, ADR 0028); and
    freeze what the worker loaded (Django, the project's modules, the URL conf): the collector's
    full passes then skip those objects instead of stalling the request they land on (ADR 0020;
    figures in docs/benchmarks.md, "Webhooks and the event feed")."""
    from api.waits import serve_threads

    serve_threads(worker.cfg.threads)
    gc.freeze()
