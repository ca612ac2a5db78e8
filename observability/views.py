"""``GET /metrics``: the Prometheus text exposition, behind ``Authorization: Bearer $METRICS_TOKEN`` when set.

Values recorded by processes (commands, requests, batches) come from the process's own registry,
or, with ``PROMETHEUS_MULTIPROC_DIR`` set, summed over every process that shares the directory
(gunicorn's workers, the qcluster's workers, management commands). Database figures are read
now (``observability.collector``).
"""

from collections.abc import Iterator

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric

from observability import multiprocess
from observability.collector import ConsumerCollector


class _Scrape:
    """What one scrape exposes: the recorded values, then the database's figures."""

    def __init__(self) -> None:
        if multiprocess.directory() is not None:
            from prometheus_client.multiprocess import MultiProcessCollector

            recorded = CollectorRegistry()
            MultiProcessCollector(recorded)
            self.recorded = recorded
        else:
            self.recorded = REGISTRY

    def collect(self) -> Iterator[Metric]:
        yield from self.recorded.collect()
        yield from ConsumerCollector().collect()


@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    if token and not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        response = JsonResponse(
            {"error": {"code": "not_authenticated", "message": "Send Authorization: Bearer <METRICS_TOKEN>.",
                       "details": {}}},
            status=401,
        )  # fmt: skip
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_Scrape()), content_type=CONTENT_TYPE_LATEST)
