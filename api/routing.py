"""Serve one URL with a different view class per HTTP method.

REST puts a query and a command on one URL (``GET /api/orders/`` lists, ``POST`` places), but
they are different kinds of view here: different rights, throttles and consistency rules. A
resource delegates each method to its own view class, and carries those classes' method
functions (with their schema annotations) so the OpenAPI document describes each one.
"""

from typing import ClassVar

from rest_framework.views import APIView


class Resource(APIView):
    handlers: ClassVar[dict[str, type[APIView]]] = {}

    def dispatch(self, request, *args, **kwargs):
        handler = self.handlers.get(request.method.lower())
        if handler is None:  # OPTIONS, or a method no view serves (405 in the API's error shape)
            return super().dispatch(request, *args, **kwargs)
        response = handler.as_view()(request, *args, **kwargs)
        response["Allow"] = ", ".join(self.allowed_methods)  # the URL's methods, not just this view's
        return response


def resource(name: str, **handlers: type[APIView]) -> type[Resource]:
    """Return a ``Resource`` delegating each method (``get=ListApi, post=PlaceApi``) to its view."""
    methods = {method: getattr(view, method) for method, view in handlers.items()}
    return type(name, (Resource,), {"handlers": handlers, "__doc__": handlers[next(iter(handlers))].__doc__, **methods})
