"""Per request: its id (the correlation id of the events it writes), one log line and its metrics.

The request id is the client's ``X-Request-ID`` (or ``X-Correlation-ID``) when it is a UUID,
else a new one; it is answered in ``X-Request-ID``, bound to every log line of the request and
stamped on the outbox events its commands write (``orders_write.outbox.correlated``), so the
consumers that apply or deliver them log it again (ADR 0024). Metrics are labelled by the URL
pattern's name, never the path (which holds ids). Nothing here touches the database: the user
id is logged only when the request already loaded its user.
"""

import logging
import time
import uuid

from django.utils.functional import SimpleLazyObject, empty

from observability.context import log_context
from observability.instruments import record_request
from observability.logging import log_fields
from orders_write.outbox import correlated

REQUEST_ID_HEADERS = ("X-Request-ID", "X-Correlation-ID")
logger = logging.getLogger("orders.request")


def incoming_request_id(request) -> uuid.UUID | None:
    """Return the first request-id header that holds a UUID (at most 64 characters), else ``None``."""
    for header in REQUEST_ID_HEADERS:
        value = request.headers.get(header)
        if value and len(value) <= 64:
            try:
                return uuid.UUID(value)
            except ValueError:
                continue
    return None


def request_id_of(request) -> uuid.UUID | None:
    """The id the middleware gave ``request`` (``None`` outside it, e.g. a bare ``RequestFactory``)."""
    return getattr(request, "request_id", None)


def route_of(request) -> str:
    """The URL pattern's name (``api:order-detail``); ``unmatched`` for a path no pattern matched."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


def _user_id(request) -> int | None:
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None  # never loaded: asking now would cost a session query
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestObservabilityMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request) or uuid.uuid4()
        request.request_id = request_id
        started = time.perf_counter()
        text_id = str(request_id)
        with log_context(request_id=text_id, correlation_id=text_id), correlated(request_id):
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            route = route_of(request)
            record_request(route, request.method, response.status_code, seconds)
            response["X-Request-ID"] = text_id
            if logger.isEnabledFor(logging.INFO):
                log_fields(
                    logger,
                    logging.INFO,
                    f"{request.method} {route} {response.status_code}",
                    {
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 3),
                        "user_id": _user_id(request),
                    },
                )
        return response
