"""URL routes of the whole monolith."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from api import health
from observability.views import metrics

# One site, one name: "View site" leads to the dashboard, and the side menu is off so wide lists
# (orders, the outbox, projection health) fit a laptop screen.
admin.site.site_header = admin.site.site_title = "Orders admin"
admin.site.site_url = "/dashboard/"
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls", namespace="api")),
    path("dashboard/", include("orders_read.dashboard.urls")),
    path("two-factor/", include("staff_auth.urls")),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics, name="metrics"),
]

handler500 = "config.errors.server_error"
