"""Who may read the dashboard: whoever holds the ``orders_read.view_reports`` right (superusers do).

Being staff is not enough (least privilege, ADR 0022): the right is granted, not implied.

Anonymous visitors are sent to the login page with ``?next=``; a logged-in user without the
right gets a 403 page that says which right is missing (and lets them log in as someone else).
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.rights import VIEW_REPORTS


def can_view_reports(user) -> bool:
    return bool(user.is_active and user.has_perm(VIEW_REPORTS))


def reports_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let report viewers through; send anonymous users to log in; refuse the rest (staff included)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_view_reports(request.user):
            return render(request, "dashboard/forbidden.html", {"right": VIEW_REPORTS}, status=403)
        return view(request, *args, **kwargs)

    return guarded
