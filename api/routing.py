"""Serve one URL with a different view class per HTTP method.

REST puts a query and a command on one URL (``GET /api/orders/`` lists, ``POST`` places), but
they are different kinds of view here: different rights, throttles and consistency rules. A
resource delegates each method to its own view class, and carries those classes' method
functions (with their schema annotations) so the OpenAPI document describes each one.
"""

from collections.abc import Callable
from typing import ClassVar

from rest_framework.views import APIView


class Resource(APIView):
    handlers: ClassVar[dict[str, type[APIView]]] = {}
    views: ClassVar[dict[str, Callable]] = {}

    def dispatch(self, request, *args, **kwargs):
        method = request.method.lower()
        view = self.views.get("get" if method == "head" else method)
        if view is None:  # OPTIONS, or a method no view serves (405 in the API's error shape)
            return super().dispatch(request, *args, **kwargs)
        response = view(request, *args, **kwargs)
        response["Allow"] = ", ".join(self.allowed_methods)  # the URL's methods, not just this view's
        return response


def resource(name: str, **handlers: type[APIView]) -> type[Resource]:
    """Return a ``Resource`` delegating each method (``get=ListApi, post=PlaceApi``) to its view."""
    attributes = {
        "handlers": handlers,
        "views": {method: view.as_view() for method, view in handlers.items()},
        "__doc__": next(iter(handlers.values())).__doc__,
        **{method: getattr(view, method) for method, view in handlers.items()},
    }
    return type(name, (Resource,), attributes)
