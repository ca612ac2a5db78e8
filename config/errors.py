"""The site-wide 500 page: JSON in the API's error shape under /api/, Django's own elsewhere."""

from django.views import defaults

from api.errors import json_server_error


def server_error(request):
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
