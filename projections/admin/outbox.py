"""A read-only browser over the outbox, the audit log every projection is built from.

The outbox grows by every event ever (millions of rows), so each way in is an index: newest
first by position (the primary key); a number in the search box finds an aggregate's events
through the ``(aggregate_type, aggregate_id, aggregate_version)`` unique index, by naming every
aggregate type; a date range goes through ``(event_type, occurred_at)``, by naming every event
type (one index range per type). That is why time is a range filter and not a
``date_hierarchy``: no index has ``occurred_at`` first. A UUID finds an event by its id
(unique) or the events of one request by correlation id; the correlation id has no index, so
that search reads the whole outbox. Lists leave the payload out; an event's page shows it
pretty-printed, its contact fields blanked for staff without the contacts right (ADR 0031).
Nothing here writes: the outbox is append-only.
"""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from config.admin_paginator import EstimatedCountPaginator
from config.limits import MAX_BIGINT
from config.rights import sees_customer_contacts
from events import EVENT_TYPES
from orders_write.models.outbox import OutboxEvent
from projections.admin.access import FixedOrderChangeList, ViewOnlyAdmin

EVENT_TYPE_NAMES = sorted(EVENT_TYPES)
AGGREGATE_TYPES = sorted({event_class.aggregate_type for event_class in EVENT_TYPES.values()})


class EventTypeFilter(admin.SimpleListFilter):
    """Event types from the event contract, not a ``SELECT DISTINCT`` over the whole outbox."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in EVENT_TYPE_NAMES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class AggregateTypeFilter(admin.SimpleListFilter):
    title = "aggregate type"
    parameter_name = "aggregate_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in AGGREGATE_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(aggregate_type=self.value()) if self.value() else queryset


class OccurredFilter(admin.ListFilter):
    """Events that occurred from one UTC day to another (inclusive): presets and a small form."""

    title = "occurred (UTC days)"
    template = "admin/projections/occurred_filter.html"
    parameters = ("occurred_from", "occurred_to")

    def __init__(self, request: HttpRequest, params: dict, model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]
        self.hidden: list[tuple[str, str]] = []

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def _day(self, name: str) -> date | None:
        text = self.used_parameters.get(name)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise IncorrectLookupParameters(f"{name}: not a date") from error

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start, end = self._day("occurred_from"), self._day("occurred_to")
        if start is None and end is None:
            return queryset
        # Naming every event type lets PostgreSQL read the range from (event_type, occurred_at).
        queryset = queryset.filter(event_type__in=EVENT_TYPE_NAMES)
        if start is not None:
            queryset = queryset.filter(occurred_at__gte=datetime.combine(start, time.min, tzinfo=UTC))
        if end is not None:
            queryset = queryset.filter(occurred_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC))
        return queryset

    def choices(self, changelist: Any) -> list[dict[str, Any]]:
        self.hidden = [
            (name, value) for name, value in changelist.params.items() if name not in (*self.parameters, "p")
        ]
        today = timezone.now().astimezone(UTC).date()
        presets = [
            ("Any time", None, None),
            ("Today", today, today),
            ("Last 7 days", today - timedelta(days=6), today),
            ("Last 30 days", today - timedelta(days=29), today),
        ]
        current = (self.used_parameters.get("occurred_from") or None, self.used_parameters.get("occurred_to") or None)
        choices = []
        for label, start, end in presets:
            wanted = (start and start.isoformat(), end and end.isoformat())
            new = {name: value for name, value in zip(self.parameters, wanted, strict=True) if value}
            choices.append(
                {
                    "selected": current == wanted,
                    "query_string": changelist.get_query_string(new, list(self.parameters)),
                    "display": label,
                }
            )
        return choices


class OutboxChangeList(FixedOrderChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return super().get_queryset(request, exclude_parameters).defer("payload")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ViewOnlyAdmin):
    list_display = (
        "position",
        "occurred_at",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "aggregate_version",
        "actor",
    )
    list_filter = (EventTypeFilter, AggregateTypeFilter, OccurredFilter)
    ordering = ("-position",)
    search_fields = ("aggregate_id",)  # shows the search box; get_search_results decides what it matches
    search_help_text = "An order, customer or product number (exact), or an event id or correlation id (UUID)."
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()
    actions = None
    list_per_page = 50
    fields = (
        "position",
        "event_id",
        "occurred_at",
        "event_type",
        "schema_version",
        "aggregate_type",
        "aggregate_id",
        "aggregate_version",
        "actor",
        "correlation_id",
        "causation_id",
        "related",
        "payload_pretty",
    )
    readonly_fields = ("related", "payload_pretty", "payload_without_contacts")

    def get_fields(self, request: HttpRequest, obj: OutboxEvent | None = None) -> tuple[str, ...]:
        if sees_customer_contacts(request.user):
            return self.fields
        return tuple("payload_without_contacts" if name == "payload_pretty" else name for name in self.fields)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type:
        return OutboxChangeList

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Only the filters' own parameters: an ad hoc lookup (``?payload__contains=``) would scan the outbox.
        return lookup in {
            EventTypeFilter.parameter_name,
            AggregateTypeFilter.parameter_name,
            *OccurredFilter.parameters,
        }

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit() and int(term) <= MAX_BIGINT:
            # Naming every aggregate type lets the unique (type, id, version) index find the id.
            return queryset.filter(aggregate_type__in=AGGREGATE_TYPES, aggregate_id=int(term)), False
        try:
            wanted = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False
        return queryset.filter(Q(event_id=wanted) | Q(correlation_id=wanted)), False

    @admin.display(description="related events")
    def related(self, obj: OutboxEvent) -> str:
        changelist = reverse("admin:orders_write_outboxevent_changelist")
        return format_html(
            '<a href="{}?aggregate_type={}&amp;q={}" id="outbox-aggregate-events">all events of {} {}</a>'
            ' · <a href="{}?q={}" id="outbox-correlated-events">events of the same request</a>',
            changelist,
            obj.aggregate_type,
            obj.aggregate_id,
            obj.aggregate_type,
            obj.aggregate_id,
            changelist,
            obj.correlation_id,
        )

    @admin.display(description="payload")
    def payload_pretty(self, obj: OutboxEvent) -> str:
        return _pretty(obj.payload)

    @admin.display(description="payload")
    def payload_without_contacts(self, obj: OutboxEvent) -> str:
        event_class = EVENT_TYPES.get(obj.event_type)
        if event_class is None or not isinstance(obj.payload, dict):  # no contract says what it holds
            return "(shown only to staff with the contacts right)"
        hidden = event_class.contact_fields
        return _pretty({name: None if name in hidden else value for name, value in obj.payload.items()})


def _pretty(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre id="outbox-payload" class="payload">{}</pre>', text)
