"""The two kinds of API view: commands (write side) and queries (read side).

A command view validates its input, calls one domain service with the acting user and the
version the client saw, and answers ``{<id>, version, position}`` with ``Location`` and ``ETag``.
A query view names the projections whose tables it reads; it honours ``min_position`` (wait
until they have applied it) and stamps ``X-Projection-Position`` on its answer.
"""

import re
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import caches
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from api.errors import PreconditionFailed, ProjectionLagging
from api.inputs import StrictInput
from api.waits import wait_slot
from config.limits import MAX_BIGINT, MAX_VERSION
from observability.instruments import record_read_your_writes
from observability.middleware import request_id_of
from orders_write.errors import VersionConflict
from orders_write.outbox import correlated
from orders_write.services import CommandResult
from projections.runtime.registry import owners_of
from projections.runtime.watermark import wait_for_position, watermark
from projections.store import event_store

_ETAG = re.compile(r'\s*"([1-9][0-9]{0,8})"\s*')  # as api.schema.IF_MATCH_PATTERN


class CommandRateThrottle(UserRateThrottle):
    """``COMMAND_THROTTLE_RATE`` per user across every command endpoint."""

    scope = "commands"


class VersionedInput(StrictInput):
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text="Fail with 409 unless the order is at this version.",
    )


class ChangeApi(APIView):
    """Any change: strict input (``api.inputs``), the acting user's right, the command throttle.

    A change of configuration that is no event in the log (a webhook endpoint) derives from this
    directly: it takes effect at once and answers the changed resource, with no version or position.
    """

    throttle_classes = [CommandRateThrottle]


class CommandApi(ChangeApi):
    """A command of the write side: one event in the log, answered with its ``version`` and ``position``."""

    def execute(self, request, service: Callable[..., CommandResult], **arguments: Any) -> CommandResult:
        """Run ``service`` as the request's user, correlated by the request's id (``X-Request-ID``, ADR 0024)."""
        with correlated(_correlation_id(request)):
            return service(actor=request.user, **arguments)

    def execute_versioned(
        self, request, service: Callable[..., CommandResult], *, expected_version: int | None, **arguments: Any
    ) -> CommandResult:
        """Run ``service`` with the version from the body or ``If-Match`` (a stale If-Match is a 412)."""
        if_match = if_match_version(request)
        if if_match is not None and expected_version is not None and if_match != expected_version:
            raise serializers.ValidationError({"If-Match": ["names a different version than expected_version"]})
        try:
            return self.execute(request, service, expected_version=expected_version or if_match, **arguments)
        except VersionConflict as conflict:
            if if_match is None:
                raise
            raise PreconditionFailed(expected_version=if_match, current_version=conflict.current_version) from None

    def respond(self, result: CommandResult, body: dict[str, Any], *, location: str | None, status: int = 200):
        response = Response({**body, "version": result.version, "position": result.position}, status=status)
        if location is not None:
            response["Location"] = self.request.build_absolute_uri(location)
        response["ETag"] = f'"{result.version}"'
        return response


def if_match_version(request) -> int | None:
    """Return the version an ``If-Match: "<version>"`` header names; None without one or for ``*``."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.fullmatch(header)
    if match is None:
        raise serializers.ValidationError({"If-Match": ['must be a version in quotes, such as "3"']})
    return int(match.group(1))


def _correlation_id(request) -> uuid.UUID:
    if (request_id := request_id_of(request)) is not None:
        return request_id
    try:
        return uuid.UUID(request.headers.get("X-Correlation-ID", ""))
    except ValueError:
        return uuid.uuid4()


class ReadParams(StrictInput):
    """Query parameters every read accepts."""

    min_position = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_BIGINT,
        help_text="Read-your-writes: wait (about 2 s at most) until the read side has applied this outbox "
        "position (a command's `position`); 503 `projection_lagging` if it has not. Above the outbox's newest "
        "position: 400 at once.",
    )


class QueryRateThrottle(UserRateThrottle):
    """``QUERY_THROTTLE_RATE`` per user across every query endpoint (ADR 0023).

    Its counts live in the ``throttle`` cache (Redis when ``REDIS_URL`` is set, else each
    process's memory), never in the database: a read must not cost a write.
    """

    scope = "queries"
    cache = caches["throttle"]


class QueryApi(APIView):
    """A read: names the read tables behind it (``()`` for reads straight from the outbox).

    Its ``min_position`` waits for, and its ``X-Projection-Position`` reports, the projections
    that own those tables, whichever they are (``settings.CONSUMERS``).
    """

    throttle_classes = [QueryRateThrottle]
    reads: ClassVar[tuple[type, ...]] = ()
    params_class: ClassVar[type[serializers.Serializer]] = ReadParams

    def projections_behind(self) -> tuple[str, ...]:
        return owners_of(*self.reads)

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, rights, throttles first
        if getattr(self, request.method.lower(), None) is None:
            return  # a method this read does not serve: its 405 comes next, whatever the parameters
        params = self.params_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.params = params.validated_data
        min_position = self.params.get("min_position")
        self.projections = self.projections_behind()
        self.position = watermark(self.projections)
        if min_position is None or self.position >= min_position:
            return
        # No client can hold a position the outbox has not reached: refuse it at once, never wait (ADR 0023).
        head = event_store().head() if self.projections else self.position
        if min_position > head:
            raise serializers.ValidationError(
                {"min_position": [f"is above the newest outbox position ({head}); pass a command's `position`"]}
            )
        started = time.perf_counter()
        with wait_slot(request.user.pk):
            reached, self.position = wait_for_position(
                self.projections, min_position, timeout=settings.READ_YOUR_WRITES_TIMEOUT
            )
        record_read_your_writes(reached, time.perf_counter() - started)
        if not reached:
            raise ProjectionLagging(min_position=min_position, watermark=self.position, retry_after=1)

    def finalize_response(self, request, response, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "position", None) is not None:
            response["X-Projection-Position"] = str(self.position)
        return response
