"""Routes under /dashboard/: the page, its CSV exports, and the site's own login and logout."""

from django.urls import path

from orders_read.dashboard import export, views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("export/<slug:table>.csv", export.export_csv, name="export"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
]
