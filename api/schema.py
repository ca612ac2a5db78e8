"""What the OpenAPI schema says every operation may answer: the error shape, codes and headers.

Views declare their own success body; the failures they share are described once here, so the
document cannot drift from ``api.errors``: each status lists the codes it may carry.
"""

import re

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

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
_MEANING = {
    400: "Malformed input; `details` maps each bad field to its messages. Nothing was written.",
    401: "No valid credentials (send `Authorization: Token <key>` or a session cookie).",
    403: "Authenticated, but without the right this operation needs. Nothing was written.",
    404: "No such resource.",
    409: "A conflict: a stale `expected_version` (see `details.current_version`), a transition the "
    "order's status forbids, or an `Idempotency-Key` reused for a different request.",
    412: "`If-Match` names a version other than the current one (see `details.current_version`).",
    413: "The body is larger than the API reads (`details.max_bytes`). Nothing was written.",
    422: "Well-formed, but the change would break a business rule.",
    429: "Too many requests (commands or queries per user, or read-your-writes waits at once); retry after "
    "`Retry-After` seconds.",
    503: "The read side had not applied `min_position` within the wait (`projection_lagging`), or the database "
    "is unreachable for a moment (`service_unavailable`); retry after `Retry-After` seconds.",
}


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable, machine-readable: " + ", ".join(sorted({c for cs in ERROR_CODES.values() for c in cs}))
    )
    message = serializers.CharField(help_text="For humans; may change.")
    details = serializers.DictField(help_text="Facts of the failure; per field lists of messages for validation_error.")


class ErrorResponse(serializers.Serializer):
    error = ErrorBody()


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Return the documented error responses for ``statuses`` (401 and 403 are always possible)."""
    documented = sorted({401, 403, 429, 503, *statuses})  # 503: the database may be unreachable for any
    return {
        code: OpenApiResponse(
            ErrorResponse,
            description=_MEANING.get(code, "") + f" Codes: {', '.join(ERROR_CODES[code])}.",
            examples=[
                OpenApiExample(
                    f"{code} {ERROR_CODES[code][0]}",
                    value={"error": {"code": ERROR_CODES[code][0], "message": "…", "details": {}}},
                    response_only=True,
                    status_codes=[code],
                )
            ],
        )
        for code in documented
    }


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
    would all collide on one component name.
    """

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
