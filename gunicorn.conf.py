"""gunicorn's settings and hooks (read by gunicorn from the working directory).

With ``PROMETHEUS_MULTIPROC_DIR`` set, gunicorn's workers write their metric values to files
there and ``/metrics`` sums them; see ``observability/multiprocess.py`` and ADR 0024.
"""

import gc

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
    from observability.multiprocess import remove_files_of_dead_processes

    remove_files_of_dead_processes()


def child_exit(server, worker):
    from observability.multiprocess import mark_process_dead

    mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Tell the API how many threads the worker has (its long-polls leave one free, ADR 0028); and
    freeze what the worker loaded (Django, the project's modules, the URL conf): the collector's
    full passes then skip those objects instead of stalling the request they land on (ADR 0020;
    figures in docs/benchmarks.md, "Webhooks and the event feed")."""
    from api.waits import serve_threads

    serve_threads(worker.cfg.threads)
    gc.freeze()
