"""What the OpenAPI schema says every operation may answer: the error shape, codes and headers.

Views declare their own success body; the failures they share are described once here, so the
document cannot drift from ``api.errors``: each status lists the codes it may carry.

Each operation's description is written for API clients (ADR 0033): the view's own text
(``extend_schema(description=...)``; docstrings never reach the document) followed by what
``AutoSchema`` reads off the view's declarations, so it cannot drift from them: the right its
permission class checks, its read-your-writes behaviour, and its error statuses with their codes.
"""

import re

from django.conf import settings
from drf_spectacular import openapi
from drf_spectacular.drainage import warn
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from api.base import ChangeApi, CommandApi, QueryApi

# ``"<version>"`` (1 to 9 digits: any version an order reaches) or ``*``; api.base parses the same form.
IF_MATCH_PATTERN = r'^\s*("[1-9][0-9]{0,8}"|\*)\s*$'
ERROR_CODES = {
    400: ("validation_error",),
    401: ("not_authenticated", "authentication_failed"),
    403: ("permission_denied",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    406: ("not_acceptable",),
    409: ("version_conflict", "invalid_transition", "idempotency_key_reused"),
    412: ("precondition_failed",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("invariant_violated",),
    429: ("throttled",),
    503: ("projection_lagging", "service_unavailable"),
}
# What each code means to a client; an error response's description is made of its codes' meanings.
_MEANING = {
    "validation_error": "Malformed input; `details` maps each bad field to its messages. Nothing was written.",
    "not_authenticated": "No credentials: send `Authorization: Token <key>` (or use a session cookie).",
    "authentication_failed": "The token is unknown, expired or revoked.",
    "permission_denied": "Authenticated, but without the right this operation needs. Nothing was written.",
    "not_found": "No such resource.",
    "method_not_allowed": "The path does not serve this method.",
    "not_acceptable": "The API answers JSON only.",
    "version_conflict": "`expected_version` is stale; `details.current_version` is the current one.",
    "invalid_transition": "The order's status forbids this change (`details.status`, `details.allowed_from`).",
    "idempotency_key_reused": "This `Idempotency-Key` was already used for a different request.",
    "precondition_failed": "`If-Match` names a version other than the current one (`details.current_version`).",
    "payload_too_large": "The body is larger than the API reads (`details.max_bytes`). Nothing was written.",
    "unsupported_media_type": "Send the body as `application/json`.",
    "invariant_violated": "Well-formed, but the change would break a business rule. Nothing was written.",
    "throttled": "Too many requests (commands or queries per user, or waits at once); retry after `Retry-After` "
    "seconds.",
    "projection_lagging": "The read side had not applied `min_position` within the wait; retry after "
    "`Retry-After` seconds.",
    "service_unavailable": "The database is unreachable for a moment; nothing was half-written. Retry after "
    "`Retry-After` seconds (a command with the same `Idempotency-Key` or `expected_version`).",
}
LAGGING = "projection_lagging"


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable, machine-readable: " + ", ".join(sorted({c for cs in ERROR_CODES.values() for c in cs}))
    )
    message = serializers.CharField(help_text="For humans; may change.")
    details = serializers.DictField(help_text="Facts of the failure; per field lists of messages for validation_error.")


class ErrorResponse(serializers.Serializer):
    error = ErrorBody()


def errors(*statuses: int, codes: dict[int, tuple[str, ...]] | None = None) -> dict[int, OpenApiResponse]:
    """Return the documented error responses for ``statuses`` (401, 403, 429 and 503 are always possible).

    ``codes`` narrows a status to the codes this operation can answer with (all of ``ERROR_CODES``
    by default); 503 ``projection_lagging`` is dropped by ``AutoSchema`` where the view never waits.
    """
    documented = sorted({401, 403, 429, 503, *statuses})  # 503: the database may be unreachable for any
    narrowed = {**ERROR_CODES, **(codes or {})}
    return {status: error_response(status, narrowed[status]) for status in documented}


def error_response(status: int, codes: tuple[str, ...]) -> OpenApiResponse:
    if not set(codes) <= set(ERROR_CODES[status]):
        raise ValueError(f"{status} does not answer {codes}")
    return OpenApiResponse(
        ErrorResponse,
        description=error_description(codes),
        examples=[
            OpenApiExample(
                f"{status} {code}",
                value={"error": {"code": code, "message": "…", "details": {}}},
                response_only=True,
                status_codes=[status],
            )
            for code in codes
        ],
    )


def error_description(codes: tuple[str, ...]) -> str:
    return " ".join(f"`{code}`: {_MEANING[code]}" for code in codes)


WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[401], description="`Token`"
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429, 503], description="Seconds to wait."
)
PROJECTION_POSITION = OpenApiParameter(
    "X-Projection-Position",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[200, 503],
    description="Every committed event up to this outbox position has been applied to the tables behind this response.",
)
LOCATION = OpenApiParameter(
    "Location", OpenApiTypes.URI, OpenApiParameter.HEADER, response=[200, 201], description="The read resource."
)
ETAG = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 201], description='The new version, e.g. `"3"`.'
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description='`"<version>"`: change only if the resource is at that version, else 412. '
    "An alternative to `expected_version`.",
)
COMMAND_HEADERS = [WWW_AUTHENTICATE, RETRY_AFTER, LOCATION, ETAG]
QUERY_HEADERS = [WWW_AUTHENTICATE, RETRY_AFTER, PROJECTION_POSITION]


class AutoSchema(openapi.AutoSchema):
    """Name nested serializers after their view (``OrderPlaceApi.InputSerializer`` → ``OrderPlaceInput``).

    Every command view nests an ``InputSerializer``, as the style guide has it; without this they
    would all collide on one component name. Each operation's description gets the sections read
    off its view (``reference_sections``) after its own text.
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        view_class = self.serving_view()
        waits = issubclass(view_class, QueryApi) and bool(view_class().projections_behind())
        if not waits:  # nothing behind it to wait for, so a min_position never runs out of time
            _drop_code(operation["responses"], 503, LAGGING)
        own = operation.get("description", "").strip()
        if not own:
            warn(f"{operation['operationId']}: no description for API clients; give extend_schema a description")
        sections = reference_sections(view_class, self.method, operation, waits=waits)
        operation["description"] = "\n\n".join(text for text in (own, *sections) if text)
        return operation

    def serving_view(self) -> type:
        """Return the view class that serves this method (a ``Resource`` delegates each method to one)."""
        handlers = getattr(self.view, "handlers", None)
        return handlers[self.method.lower()] if handlers else type(self.view)

    def get_serializer_name(self, serializer, direction):
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if not outer:
            return inner
        return outer.removesuffix("Api") + inner.removesuffix("Serializer")

    def get_operation_id(self) -> str:
        """Name the operation after the view that serves it (``OrderListApi`` → ``order_list``).

        One view per operation makes this unique, where the path-based default is not.
        """
        handler = getattr(self.view, self.method.lower())
        view_name = handler.__qualname__.split(".")[0].removesuffix("Api")
        return re.sub(r"(?<!^)(?=[A-Z])", "_", view_name).lower()


def reference_sections(view_class: type, method: str, operation: dict, *, waits: bool) -> list[str]:
    """Return the right, read-your-writes, concurrency and errors paragraphs of an operation's description."""
    return [
        _right_text(view_class, operation["operationId"]),
        _consistency_text(view_class, method, operation, waits=waits),
        _concurrency_text(operation),
        _errors_text(operation["responses"]),
    ]


def _right_text(view_class: type, operation_id: str) -> str:
    rights = [right for permission in view_class.permission_classes for right in getattr(permission, "granted_by", ())]
    if not rights:
        warn(f"{operation_id}: its view declares no right (api.permissions.any_of)")
        return ""
    named = f"`{rights[0]}`" if len(rights) == 1 else "any one of " + ", ".join(f"`{right}`" for right in rights)
    return (
        f"**Right:** {named} (superusers hold every right). Without it: 403 `permission_denied`, and nothing "
        "is read or changed."
    )


def _consistency_text(view_class: type, method: str, operation: dict, *, waits: bool) -> str:
    if issubclass(view_class, CommandApi):
        return (
            "**Read-your-writes:** the answer's `position` is this change's place in the event log; pass it as "
            "`min_position` to any read to get an answer that already shows the change."
        )
    if not issubclass(view_class, ChangeApi | QueryApi):
        return ""
    if method != "GET":
        return "**Read-your-writes:** takes effect at once; the next read shows it."
    if waits:
        timeout = settings.READ_YOUR_WRITES_TIMEOUT
        return (
            "**Read-your-writes:** this answer comes from read tables that follow the event log a moment behind "
            f"the changes. Pass a command's `position` as `min_position` to wait (about {timeout:g} s at most) "
            "until they reflect it; if they do not by then: 503 `projection_lagging` with `Retry-After`. A "
            "`min_position` above the newest position is a 400 `validation_error` at once, and a user may hold "
            "only a few such waits at once (one more: 429 `throttled`). `X-Projection-Position` on the answer: "
            "every change up to that position is reflected."
        )
    takes_min_position = any(parameter["name"] == "min_position" for parameter in operation.get("parameters", ()))
    never_waits = (
        " A `min_position` never has to wait (one above the newest position is still a 400 `validation_error`)."
        if takes_min_position
        else ""
    )
    return (
        "**Read-your-writes:** always current: this reads the data itself, not a read table that follows it."
        + never_waits
        + " `X-Projection-Position` on the answer is the newest position at the time of the read."
    )


def _concurrency_text(operation: dict) -> str:
    if not any(parameter["name"] == "If-Match" for parameter in operation.get("parameters", ())):
        return ""
    return (
        '**Concurrency:** send the version you last saw as `expected_version` or as `If-Match: "<version>"`: '
        "the change is made only if the resource is still at that version, else a 409 `version_conflict` (a 412 "
        "`precondition_failed` for `If-Match`) with `details.current_version`. Without either, the change "
        "applies to the current version."
    )


def _codes(response: dict) -> list[str]:
    examples = response["content"]["application/json"]["examples"].values()
    return [example["value"]["error"]["code"] for example in examples]


def _drop_code(responses: dict, status: int, code: str) -> None:
    response = responses[str(status)]
    examples = response["content"]["application/json"]["examples"]
    for name in [name for name, example in examples.items() if example["value"]["error"]["code"] == code]:
        del examples[name]
    response["description"] = error_description(tuple(_codes(response)))


def _errors_text(responses: dict) -> str:
    failures = sorted((int(status), response) for status, response in responses.items() if int(status) >= 400)
    listed = "; ".join(
        f"{status} " + ", ".join(f"`{code}`" for code in _codes(response)) for status, response in failures
    )
    return f'**Errors** (`{{"error": {{"code", "message", "details"}}}}`, `code` is stable): {listed}.'
