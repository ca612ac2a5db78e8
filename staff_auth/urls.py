"""Routes under /two-factor/: the code page and the enrol page (ADR 0030)."""

from django.urls import path

from staff_auth import views

app_name = "staff_auth"

urlpatterns = [
    path("", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
]
