"""One error shape for every API failure: ``{"error": {"code", "message", "details"}}``.

Domain errors carry their own stable code and status (``orders_write.errors``); DRF's own
failures (validation, authentication, permission, 404, throttling, bad media type) are mapped
here to the same shape, so a client only ever parses one thing. Codes are part of the contract:
add new ones, never rename them. ``details`` maps a field to a list of messages for validation
errors, and carries the facts of the failure (for example ``current_version``) otherwise.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from orders_write.errors import DomainError

logger = logging.getLogger(__name__)

# DRF's codes for its own exceptions, by the code this API promises instead where they differ.
_DRF_CODES = {"parse_error": "validation_error", "invalid": "validation_error", "error": "server_error"}


class PreconditionFailed(exceptions.APIException):
    """``If-Match`` named a version other than the current one (RFC 9110 section 13.1.1)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self, *, expected_version: int, current_version: int) -> None:
        super().__init__(f"If-Match names version {expected_version}, the resource is at {current_version}")
        self.details = {"expected_version": expected_version, "current_version": current_version}


class ProjectionLagging(exceptions.APIException):
    """The read tables behind a query had not applied ``min_position`` when the wait ran out."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "projection_lagging"

    def __init__(self, *, min_position: int, watermark: int, retry_after: int) -> None:
        super().__init__(f"the read side has applied events up to position {watermark}, not yet {min_position}")
        self.details = {"min_position": min_position, "position": watermark}
        self.wait = retry_after  # DRF turns ``wait`` into a Retry-After header


class PayloadTooLarge(exceptions.APIException):
    """The body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``; Django alone would answer an HTML page."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"the request body is larger than the {limit} bytes this API reads")
        self.details = {"max_bytes": limit}


class ServiceUnavailable(exceptions.APIException):
    """The database could not be reached or dropped the connection (a restart, a failover).

    Nothing is half-written: the transaction, if any, rolled back with the connection, and a
    command retried with its ``Idempotency-Key`` (or ``expected_version``) is safe (ADR 0023).
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"

    def __init__(self) -> None:
        super().__init__("the database is unreachable for a moment; retry after Retry-After seconds")
        self.wait = 1  # DRF turns ``wait`` into a Retry-After header


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render any expected failure in the API's error shape; leave real bugs to the 500 handler."""
    if isinstance(exc, DomainError):
        return Response({"error": exc.as_dict()}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, OperationalError | InterfaceError):
        # Connection-level failures only reach here as these (psycopg's own, wrapped by Django);
        # a bug in SQL is a ProgrammingError or DataError and stays a 500.
        logger.warning("database unavailable, answering 503: %s", exc)
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)  # sets WWW-Authenticate, Retry-After, rollback
    if response is None:
        return None
    response.data = {"error": describe(exc)}
    return response


def describe(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError | exceptions.ParseError):
        details = flatten(exc.detail) if isinstance(exc, exceptions.ValidationError) else {"body": [str(exc.detail)]}
        return {"code": "validation_error", "message": f"invalid input: {', '.join(details)}", "details": details}
    code = exc.default_code
    return {
        "code": _DRF_CODES.get(code, code),
        "message": str(exc.detail),
        "details": getattr(exc, "details", {}),
    }


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"lines[0].sku": ["..."]}``, the services' style."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix  # the errors of the object itself belong to its own name
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"  # a list item, as DRF reports them
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix or "non_field_errors": messages}


def json_not_found(request, exception=None) -> JsonResponse:
    """The 404 of a URL outside every API route, in the API's shape."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": f"no API resource at {request.path}", "details": {}}}, status=404
    )


def json_server_error(request) -> JsonResponse:
    """The 500 of an API request: a bug, logged by Django; the body leaks nothing."""
    return JsonResponse(
        {
            "error": {
                "code": "server_error",
                "message": "an unexpected error occurred; it has been logged",
                "details": {},
            }
        },
        status=500,
    )
