"""The event feed ``GET /api/events/``: the outbox as public events in commit order (CONTRACT "Events out").

Read straight from the outbox through the event store (``projections.store.feed``), so there is
no projection to wait for. ``next`` is always present: the cursor after the last event, or the
same one when there were none, so a client can poll (or long-poll with ``wait``) forever from
where it was. Bodies are ``public_event`` (the current schema, upcast on read), with contact
data only for a reader holding the contacts right (ADR 0031). A page is
written from each event's ``public_event_json`` bytes, the very bytes a webhook signs, byte for
byte what DRF's JSON renderer made of the same dicts; rendering 500 nested dicts through DRF
was most of a page's time (docs/benchmarks.md). See ADR 0020.
"""

import json

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.utils.urls import replace_query_param

from api.base import QueryApi, ReadParams
from api.permissions import any_of
from api.schema import QUERY_HEADERS, errors
from api.waits import feed_wait_slot
from config.limits import MAX_BIGINT
from config.rights import VIEW_EVENTS, sees_customer_contacts
from events import EVENT_TYPES
from projections.store import START
from projections.store.feed import InvalidFeedCursor, decode_cursor, encode_cursor, wait_for_page
from projections.store.public import public_event_json

MAX_FEED_PAGE = 500
MAX_WAIT_SECONDS = 25
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class FeedParams(ReadParams):
    after = serializers.CharField(
        required=False,
        max_length=200,
        help_text="A cursor from a previous page's `next`; the start of the log if absent.",
    )
    types = serializers.CharField(
        required=False, max_length=2000, help_text="Comma-separated event types (`OrderShipped,OrderCancelled`)."
    )
    aggregate_type = serializers.ChoiceField(
        required=False, choices=sorted({event_class.aggregate_type for event_class in EVENT_TYPES.values()})
    )
    aggregate_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_FEED_PAGE, default=100)
    wait = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        default=0,
        help_text="Seconds to long-poll for at least one event when there is none yet. Long-polls that wait are "
        "bounded per user (2 at once by default) and per server process; one more is refused at once with 429 "
        "`throttled` and `Retry-After`: wait that long, then poll `next` again.",
    )

    def validate_after(self, value: str):
        try:
            return decode_cursor(value)
        except InvalidFeedCursor:
            raise serializers.ValidationError("not a cursor this API gave out") from None

    def validate_types(self, value: str) -> frozenset[str]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(EVENT_TYPES))
        if unknown:
            raise serializers.ValidationError(f"unknown event types: {', '.join(unknown)}")
        if not names:
            raise serializers.ValidationError("name at least one event type, or leave the parameter out")
        return frozenset(names)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["unknown parameter"] for name in unknown})
        if "aggregate_id" in attrs and "aggregate_type" not in attrs:
            raise serializers.ValidationError({"aggregate_type": ["required with aggregate_id"]})
        return attrs


class PublicEventOutput(serializers.Serializer):
    event_id = serializers.UUIDField()
    type = serializers.CharField()
    schema_version = serializers.IntegerField()
    position = serializers.IntegerField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.IntegerField()
    aggregate_version = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    correlation_id = serializers.UUIDField(allow_null=True)
    data = serializers.DictField()


class FeedPageOutput(serializers.Serializer):
    results = PublicEventOutput(many=True)
    next = serializers.URLField(help_text="Always present: poll it for what comes after this page.")


class EventFeedApi(QueryApi):
    permission_classes = [any_of(VIEW_EVENTS)]
    params_class = FeedParams

    @extend_schema(
        operation_id="event_feed",
        summary="Events in commit order, cursor-paginated, with long-polling",
        description="Every event of every order, customer and product in commit order, in its public shape (the "
        "body a webhook receives). Filter by `types` and by `aggregate_type` (and `aggregate_id`); `limit` (at "
        f"most {MAX_FEED_PAGE}) at a time. `next` is always present: the cursor after this page, the same one "
        "when there was nothing new, so a client polls it forever and never skips or repeats an event. `wait` "
        f"(up to {MAX_WAIT_SECONDS} s) holds the request until an event arrives; a user may hold 2 such waits at "
        "once by default, and one more is a 429 `throttled` with `Retry-After`. Contact data (`data.email` of "
        "`CustomerRegistered`) is null unless you also hold `orders_write.manage_orders` or "
        "`orders_write.manage_catalog`. A cursor the API did not give out, or an unknown event type, is a 400 "
        "`validation_error`.",
        parameters=[FeedParams, *QUERY_HEADERS],
        responses={200: FeedPageOutput, **errors(400)},
        tags=["events"],
    )
    def get(self, request):
        params = self.params
        page = wait_for_page(
            wait=params["wait"],
            waiting=feed_wait_slot(request.user.pk),
            after=params.get("after", START),
            event_types=params.get("types") or frozenset(EVENT_TYPES),
            aggregate_type=params.get("aggregate_type"),
            aggregate_id=params.get("aggregate_id"),
            limit=params["limit"],
        )
        next_url = replace_query_param(request.build_absolute_uri(), "after", encode_cursor(page.end))
        page_json = feed_page_json(page.events, next_url, contacts=sees_customer_contacts(request.user))
        return HttpResponse(page_json, content_type="application/json")


def feed_page_json(events, next_url: str, *, contacts: bool) -> bytes:
    """Return ``{"results": [...], "next": ...}`` as DRF's ``JSONRenderer`` writes it (compact, UTF-8).

    ``contacts``: whether the reader holds the contacts right; contact fields are null otherwise.
    """
    results = b",".join(public_event_json(stored, contacts=contacts) for stored in events)
    page = b'{"results":[' + results + b'],"next":' + json.dumps(next_url, ensure_ascii=False).encode() + b"}"
    # As the renderer does: U+2028/U+2029 escaped, so the page is also valid JavaScript.
    return page.replace(_LINE_SEPARATOR, rb"\u2028").replace(_PARAGRAPH_SEPARATOR, rb"\u2029")
