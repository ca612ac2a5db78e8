"""Parked streams in the admin: what failed and why, and the two ways out (retry or skip).

A parked stream is one aggregate's events that a projection could not apply (property 8).
Staff read its error and traceback, fix the cause, then either retry it now
(``parking.release``: due at once, attempts reset) or skip its failing event
(``skipping.skip_parked``: treated as applied, the rest of the stream flows). Both then nudge
the worker to drain. Both need ``manage_projections``; nobody adds, edits or deletes a parked
stream by hand, because deleting one would silently drop its held-back events.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from config.admin_lookups import exact
from config.databases import read_alias
from projections.admin.access import FixedOrderChangeList, ViewOnlyAdmin, can_manage
from projections.models import ParkedStream
from projections.runtime import parking
from projections.runtime.skipping import skip_parked
from projections.tasks import nudge


@admin.register(ParkedStream)
class ParkedStreamAdmin(ViewOnlyAdmin):
    list_display = (
        "stream",
        "projection",
        "state",
        "attempts",
        "short_error",
        "first_position",
        "parked_at",
        "retry_at",
    )
    list_filter = ("projection", "state")
    allowed_lookups = exact("projection", "state")
    ordering = ("projection", "parked_at", "id")
    actions = ("retry_now", "skip_failing_event")
    fields = (
        "projection",
        "aggregate_type",
        "aggregate_id",
        "first_position",
        "state",
        "attempts",
        "parked_at",
        "retry_at",
        "error",
        "traceback_text",
    )
    readonly_fields = ("traceback_text",)
    # An error and its traceback can quote the data that failed (names, emails): only those who
    # may act on a parked stream read them (manage_projections; ADR 0022).
    failure_details = frozenset({"error", "traceback_text", "short_error"})

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        return fields if can_manage(request.user) else [f for f in fields if f not in self.failure_details]

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if can_manage(request.user) else [f for f in shown if f not in self.failure_details]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type:
        return FixedOrderChangeList

    @admin.display(description="stream")
    def stream(self, obj: ParkedStream) -> str:
        return f"{obj.aggregate_type} {obj.aggregate_id}"

    @admin.display(description="error")
    def short_error(self, obj: ParkedStream) -> str:
        return obj.error if len(obj.error) <= 120 else f"{obj.error[:119]}…"

    @admin.display(description="traceback")
    def traceback_text(self, obj: ParkedStream) -> str:
        return format_html('<pre id="parked-traceback" class="traceback">{}</pre>', obj.traceback)

    @admin.action(description="Retry the selected streams now", permissions=["manage"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        released = sum(_release(stream) for stream in queryset)
        nudge()
        self.message_user(
            request,
            f"Released {released} parked stream(s) for an immediate retry; the worker retries them on its next drain.",
            messages.SUCCESS,
        )

    @admin.action(description="Skip the failing event of the selected streams", permissions=["manage"])
    def skip_failing_event(self, request: HttpRequest, queryset: QuerySet) -> None:
        skipped: list[str] = []
        for stream in queryset:
            if stream.aggregate_type != "order":
                self.message_user(
                    request,
                    f"{stream}: only an order's stream can be skipped here; fix the cause and retry it instead.",
                    messages.WARNING,
                )
                continue
            skipped += skip_parked(projection=stream.projection, order_id=stream.aggregate_id)
        if skipped:
            nudge()
        for line in skipped:
            self.message_user(request, line, messages.SUCCESS)
        if not skipped:
            self.message_user(request, "No event was skipped.", messages.INFO)


def _release(stream: ParkedStream) -> int:
    if stream.aggregate_type == "order":
        return parking.release(projection=stream.projection, order_id=stream.aggregate_id, using=read_alias())
    # release() picks streams by order only; any other stream is released by its own row, the same way.
    return (
        ParkedStream.objects.using(read_alias())
        .filter(pk=stream.pk)
        .update(state=ParkedStream.RETRYING, attempts=0, retry_at=timezone.now())
    )
