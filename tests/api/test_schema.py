"""The OpenAPI document: valid, complete (every routed operation, every shared error) and served.

The schemathesis run (test_schemathesis.py) holds the responses to this document; these tests
hold the document to the routes, so an operation cannot slip out of it and escape that run.
"""

import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api.schema import ERROR_CODES

ERROR_REF = "#/components/schemas/ErrorResponse"
ALWAYS_DOCUMENTED = {400, 401, 403, 429}
DOC_VIEWS = (SpectacularAPIView, SpectacularSwaggerView, SpectacularRedocView)
# HEAD is answered by the GET view and OPTIONS by DRF's metadata: neither is an operation of its own.
IMPLICIT_METHODS = {"head", "options"}


def generated_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def documented_operations(schema: dict) -> dict[tuple[str, str], dict]:
    return {
        (path, method): operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "put", "post", "patch", "delete"}
    }


def _walk(patterns, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def routed_operations() -> set[tuple[str, str]]:
    """Every (path, method) a view under the ``api`` namespace serves, in OpenAPI path syntax."""
    (api,) = [entry for entry in get_resolver().url_patterns if getattr(entry, "namespace", None) == "api"]
    routed = set()
    for route, pattern in _walk(api.url_patterns, "/" + str(api.pattern)):
        view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
        if view_class is None:  # the catch-all JSON 404, a plain function view on a regex
            assert pattern.callback.__name__ == "json_not_found", f"unexpected function view at {route}"
            continue
        if issubclass(view_class, DOC_VIEWS):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        methods = {m for m in view_class.http_method_names if hasattr(view_class, m)} - IMPLICIT_METHODS
        assert methods, f"{path} serves no method"
        routed |= {(path, method) for method in methods}
    return routed


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3")


def test_every_routed_operation_is_documented_and_nothing_else():
    routed = routed_operations()
    documented = set(documented_operations(generated_schema()))
    assert len(routed) >= 22  # the walk found the API, not an empty list
    assert routed - documented == set(), "routed but missing from the schema"
    assert documented - routed == set(), "documented but not routed"


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for operation in documented_operations(generated_schema()).values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("path", "method"), sorted(documented_operations(generated_schema())))
def test_every_operation_documents_the_shared_errors_in_the_error_shape(path, method):
    schema = generated_schema()
    responses = schema["paths"][path][method]["responses"]
    statuses = {int(status) for status in responses}
    assert statuses >= ALWAYS_DOCUMENTED, f"missing {sorted(ALWAYS_DOCUMENTED - statuses)}"
    successes = {status for status in statuses if 200 <= status < 300}
    assert len(successes) == 1
    for status in statuses - successes:
        response = responses[str(status)]
        content = response["content"]
        assert set(content) == {"application/json"}, status
        assert content["application/json"]["schema"] == {"$ref": ERROR_REF}, status
        examples = content["application/json"].get("examples", {})
        assert examples, f"{status} has no example"
        for example in examples.values():
            error = example["value"]["error"]
            assert error["code"] in ERROR_CODES[status], (status, error)
            assert set(error) == {"code", "message", "details"}
    assert "WWW-Authenticate" in responses["401"].get("headers", {})
    assert "Retry-After" in responses["429"].get("headers", {})
    if "503" in responses:
        assert "Retry-After" in responses["503"].get("headers", {})
    if method == "get":
        assert "X-Projection-Position" in responses["200"].get("headers", {})


def test_error_component_is_the_one_error_shape():
    components = generated_schema()["components"]["schemas"]
    envelope = components["ErrorResponse"]
    assert envelope["required"] == ["error"]
    body_ref = envelope["properties"]["error"]["$ref"]
    body = components[body_ref.rsplit("/", 1)[1]]
    assert sorted(body["required"]) == ["code", "details", "message"]
    assert body["properties"]["details"]["type"] == "object"


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


@pytest.mark.django_db
def test_schema_is_served_without_authentication(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_are_served_without_authentication_from_local_assets(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    parser = _Assets()
    parser.feed(html)
    scripts = [u for u in parser.urls if u.endswith(".js")]
    assert scripts, "no script found: the page cannot render"
    # Swagger UI's start-up script comes from the page's own URL (?script=: no inline script, ADR 0022).
    start_up = [u for u in parser.urls if u.startswith(f"{url}?")]
    assert all(u.startswith("/static/drf_spectacular_sidecar/") for u in parser.urls if u not in start_up), parser.urls
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "page loads something from another host"
    assert "/api/schema/" in html + "".join(client.get(u.replace("&amp;", "&")).content.decode() for u in start_up)
