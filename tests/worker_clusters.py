"""A PostgreSQL cluster of its own for each pytest-xdist worker but the first (``make test`` runs ``-n``).

The drain reads only below the commit horizon, and that horizon is cluster-wide: a transaction
open in one worker's test holds back every other worker's drains, and a test that stops or
restarts its server would stop the others'. So worker ``gw0`` keeps the cluster ``DATABASE_URL``
names and every other worker starts a throw-away one (``bench.clusters.ScratchCluster``, the
same binaries) and points ``DATABASE_URL`` at it.

Loaded with ``-p tests.worker_clusters`` (``pyproject.toml``), so it runs when pytest imports its
plugins: before pytest-django reads the settings, which take ``DATABASE_URL`` when imported.
xdist names the worker in ``PYTEST_XDIST_WORKER`` before that. Without xdist it does nothing.
"""

import atexit
import os

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# A worker's tests may run gunicorn, a qcluster and a drill's children at once: room for them all.
MAX_CONNECTIONS = 200


def _start_own_cluster() -> None:
    from bench.clusters import ScratchCluster

    cluster = ScratchCluster(max_connections=MAX_CONNECTIONS).start()
    atexit.register(cluster.stop)
    os.environ["DATABASE_URL"] = cluster.url()


if WORKER and WORKER != "gw0":
    _start_own_cluster()
