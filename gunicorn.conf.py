"""gunicorn's hooks for the Prometheus multiprocess mode (read by gunicorn from the working directory).

With ``PROMETHEUS_MULTIPROC_DIR`` set, gunicorn's workers write their metric values to files
there and ``/metrics`` sums them; see ``observability/multiprocess.py`` and ADR 0024.
"""


def on_starting(server):
    from observability.multiprocess import remove_files_of_dead_processes

    remove_files_of_dead_processes()


def child_exit(server, worker):
    from observability.multiprocess import mark_process_dead

    mark_process_dead(worker.pid)
