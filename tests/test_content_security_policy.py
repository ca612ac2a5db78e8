"""Content-Security-Policy (django-csp) on the dashboard and the API docs, and no inline script.

The header is checked here on each page, and every ``<script>`` of each page must load a file
(or be a JSON data block, which never runs). tests/browser/test_content_security_policy.py loads
the same pages in Chromium, where a violation would show as a console error.
"""

import re

import pytest
from django.test import Client

from config.rights import VIEW_REPORTS
from tests.dashboard.conftest import logged_in, make_user
from tests.read_tables import empty_read_tables

pytestmark = pytest.mark.django_db
PAGES = ["/dashboard/", "/dashboard/login/", "/api/docs/", "/api/redoc/"]
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def viewer_client() -> Client:
    empty_read_tables()
    return logged_in(make_user(VIEW_REPORTS))


@pytest.mark.parametrize("path", PAGES)
def test_each_page_sends_a_policy_that_runs_scripts_from_this_site_only(viewer_client, path):
    response = viewer_client.get(path)

    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["base-uri"] == ["'none'"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_carries_an_inline_script(viewer_client, path):
    html = viewer_client.get(path).content.decode()
    scripts = SCRIPT.findall(html)

    assert scripts or path == "/dashboard/login/", "the page loads its scripts (the login page has none)"
    for attributes, body in scripts:
        assert "src=" in attributes or 'type="application/json"' in attributes, (attributes, body[:80])
        assert "src=" not in attributes or not body.strip()
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_inline_styles_are_allowed_on_the_api_docs_only(viewer_client):
    assert policy(viewer_client.get("/dashboard/"))["style-src"] == ["'self'"]
    for path in ("/api/docs/", "/api/redoc/"):
        assert policy(viewer_client.get(path))["style-src"] == ["'self'", "'unsafe-inline'"]


def test_swagger_uis_start_up_script_is_a_file_of_its_own(viewer_client):
    html = viewer_client.get("/api/docs/").content.decode()
    (start_up,) = [src for src in re.findall(r'<script src="([^"]+)"', html) if "script" in src.split("?", 1)[-1]]

    response = viewer_client.get(start_up.replace("&amp;", "&"))

    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def test_the_admin_is_left_without_the_policy(admin_client):
    assert "Content-Security-Policy" not in admin_client.get("/admin/")
