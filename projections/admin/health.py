"""The "Projection health" admin page, and the rebuild button on it.

The page is ``consumer_health()`` as a table: one row per projection with its position, the
outbox head, lag in events and seconds, heartbeat, parked streams, last error and state. It is
the change list of the ``ProjectionHealth`` proxy, so the admin index lists it; the proxy has
no other admin URL. Rebuilding asks for confirmation, then enqueues
``projections.tasks.rebuild_task`` on the django-q2 worker (POST, CSRF-protected, for
``manage_projections`` only): the live tables keep serving while it runs.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_q.tasks import async_task

from projections.admin.access import ViewOnlyAdmin, can_manage
from projections.models import ProjectionHealth
from projections.runtime.registry import consumers
from projections.runtime.status import HEARTBEAT_FRESH_FOR, State, consumer_health

STATES = {
    State.IDLE: ("Idle", "every event applied"),
    State.CATCHING_UP: ("Catching up", "events waiting, and a drainer is at work"),
    State.STUCK: ("Stuck", f"events waiting, and no heartbeat for {int(HEARTBEAT_FRESH_FOR.total_seconds())} s"),
    State.PARKED: ("Parked", "caught up except for parked streams, which need staff"),
    State.RECEIVER_UNAVAILABLE: (
        "Receiver unavailable",
        "a relay's receiver (the event bus, say) is down: retrying with backoff, nothing skipped",
    ),
    State.RESTORED: (
        "Restored",
        "the database was restored into another cluster; applying what it holds, then new events",
    ),
    State.UNREACHABLE_EVENTS: (
        "Events unreachable",
        "this database cluster was never registered: new events cannot be read in order (see docs/operations.md)",
    ),
}


@admin.register(ProjectionHealth)
class ProjectionHealthAdmin(ViewOnlyAdmin):
    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", self.admin_site.admin_view(self.changelist_view), name=f"{prefix}_changelist"),
            path(
                "rebuild/<str:name>/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.rebuild_view)),
                name=f"{prefix}_rebuild",
            ),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        parked_url = reverse("admin:projections_parkedstream_changelist")
        rows = [
            {
                **health.as_dict(),
                "state_label": STATES[health.state][0],
                "state_help": STATES[health.state][1],
                "parked_url": f"{parked_url}?projection__exact={health.name}",
                "rebuild_url": reverse("admin:projections_projectionhealth_rebuild", args=[health.name]),
            }
            for health in consumer_health()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Projection health",
            "opts": self.opts,
            "projections": rows,
            "head": rows[0]["head"] if rows else 0,
            "checked_at": timezone.now(),
            "states": STATES,
            "can_manage": can_manage(request.user),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/projections/projection_health.html", context)

    def rebuild_view(self, request: HttpRequest, name: str) -> HttpResponse:
        if not can_manage(request.user):
            raise PermissionDenied
        if name not in consumers():
            raise Http404(f"no projection named {name!r}")
        health_url = reverse("admin:projections_projectionhealth_changelist")
        if request.method == "POST":
            task_id = async_task(
                "projections.tasks.rebuild_task", name, task_name=f"rebuild {name}", group="projections"
            )
            self.message_user(
                request,
                f"Rebuild of {name} enqueued (task {task_id}). The worker rebuilds it into shadow tables from "
                "position 0 while the live tables keep serving, then swaps them in.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(health_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Rebuild {name}?",
            "opts": self.opts,
            "name": name,
            "tables": consumers()[name].tables,
            "health_url": health_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/projections/rebuild_confirm.html", context)
