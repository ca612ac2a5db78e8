"""The dashboard page, and the login and logout pages of the site outside the admin.

The admin's own login admits staff only, and its logout ignores non-staff users, so a report
viewer (not staff) could neither log in nor out there; these two pages serve every user.
"""

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.limits import MAX_PAGE_SIZE, MAX_SUMMARY_RANGE_DAYS
from orders_read.dashboard.access import reports_required
from orders_read.dashboard.export import TABLES
from orders_read.dashboard.figures import dashboard_figures
from orders_read.dashboard.freshness import freshness
from orders_read.dashboard.range import DEFAULT_PRESET, PRESETS, choose_range


@require_safe
@never_cache
@reports_required
def dashboard(request):
    """Render the KPIs, charts, rankings, recent orders and projection health of the chosen range."""
    choice = choose_range(request.GET)
    day_range = choice.day_range
    context = {
        "choice": choice,
        "day_range": day_range,
        "presets": [
            {"key": key, "label": label, "current": key == choice.preset} for key, (label, _) in PRESETS.items()
        ],
        "default_preset_label": PRESETS[DEFAULT_PRESET][0],
        "max_range_days": MAX_SUMMARY_RANGE_DAYS,
        "export_max_rows": MAX_PAGE_SIZE,
        "exports": {key: table.title for key, table in TABLES.items()},
        "export_query": day_range.query(),
        "freshness": freshness(reads=dashboard_figures.reads),
        **dashboard_figures(day_range),
    }
    return render(request, "dashboard/index.html", context)


login = auth_views.LoginView.as_view(template_name="dashboard/login.html", next_page="dashboard:index")
logout = auth_views.LogoutView.as_view(next_page="dashboard:login")
