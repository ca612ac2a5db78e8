"""The dashboard's scripts and styles are the project's own static files: no CDN, no external URL."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

TEMPLATES = [
    settings.BASE_DIR / "templates" / "base.html",
    *sorted((settings.BASE_DIR / "templates" / "dashboard").glob("*.html")),
]
STATIC_FILES = [
    "dashboard/site.css",
    "dashboard/dashboard.css",
    "dashboard/dashboard.js",
    "dashboard/vendor/chartjs/chart.umd.min.js",
    "dashboard/vendor/chartjs/chart.umd.min.js.map",
    "dashboard/vendor/chartjs/LICENSE.md",
]
_ASSET = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("name", STATIC_FILES)
def test_the_static_files_are_served_from_the_project(name):
    found = finders.find(name)

    assert found is not None, name
    assert Path(found).stat().st_size > 0


def test_the_vendored_chart_library_is_chart_js_4_under_its_mit_licence():
    library = Path(finders.find("dashboard/vendor/chartjs/chart.umd.min.js")).read_text()
    licence = Path(finders.find("dashboard/vendor/chartjs/LICENSE.md")).read_text()

    assert re.match(r"/\*!\n \* Chart\.js v4\.", library)
    assert licence.startswith("The MIT License")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_name_no_external_url(template):
    assert not re.search(r"https?://|//cdn", template.read_text()), template


def test_own_scripts_and_styles_name_no_external_url():
    for name in ("dashboard/site.css", "dashboard/dashboard.css", "dashboard/dashboard.js"):
        assert not re.search(r"https?://|@import", Path(finders.find(name)).read_text()), name


@pytest.mark.usefixtures("read_tables")
def test_every_script_and_stylesheet_of_the_page_is_a_local_static_file(viewer_client):
    page = viewer_client.get("/dashboard/").content.decode()
    assets = [url for url in _ASSET.findall(page) if url.endswith((".js", ".css"))]

    assert len(assets) == 4  # site.css, dashboard.css, chart.umd.min.js, dashboard.js
    for url in assets:
        assert url.startswith("/" + settings.STATIC_URL.strip("/") + "/"), url
        assert finders.find(url.split("/", 2)[2]) is not None, url
    assert '<script id="dashboard-data" type="application/json">' in page
    assert "<script>" not in page  # no inline script: the data travels as JSON
