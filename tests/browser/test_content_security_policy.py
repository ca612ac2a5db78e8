"""The Content-Security-Policy in Chromium: the dashboard and both API docs render with it, their
static files all load (from WhiteNoise, under both starts), and it really blocks what it should
(an injected inline script is refused, as a console error)."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from config.rights import VIEW_REPORTS
from tests.browser.conftest import make_user, wait_for_charts_drawn
from tests.browser.test_staff_journey import log_in

DASHBOARD_ASSETS = ("dashboard/site.css", "dashboard/dashboard.css", "dashboard/vendor/chartjs/chart.umd.min.js",
                    "dashboard/dashboard.js")  # fmt: skip
# collectstatic's name for a file: its content's hash (12 hex digits) before the extension.
HASHED = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{12}(?P<extension>\.[^./]+)$")


def served_assets(assets: dict) -> dict[str, dict]:
    """The static files answered, by their name as the templates give it (hash taken out) to their headers."""
    served = {}
    for url, response in assets.items():
        name = urlsplit(url).path.removeprefix("/static/")
        if (hashed := HASHED.match(name)) is not None:
            name = hashed["stem"] + hashed["extension"]
        served[name] = {"url": url, "status": response.status, **response.all_headers()}
    return served


def test_the_dashboard_and_the_api_docs_render_under_the_policy(new_page):
    viewer = make_user(VIEW_REPORTS)
    page = new_page()
    log_in(page, "/dashboard/login/?next=/dashboard/", viewer.username)
    expect(page.locator("#kpis")).to_be_visible()
    wait_for_charts_drawn(page)  # Chart.js and dashboard.js (script files) ran
    dashboard = served_assets(new_page.assets)
    assert set(DASHBOARD_ASSETS) <= set(dashboard), dashboard
    assert {dashboard[name]["status"] for name in DASHBOARD_ASSETS} == {200}
    if new_page.mode == "production":
        # collectstatic's hashed names, so browsers may keep them for ever; gzip where it helps.
        for name in DASHBOARD_ASSETS:
            assert HASHED.match(urlsplit(dashboard[name]["url"]).path), dashboard[name]
            assert dashboard[name]["cache-control"] == "max-age=315360000, public, immutable", dashboard[name]
        assert dashboard["dashboard/vendor/chartjs/chart.umd.min.js"]["content-encoding"] == "gzip"

    page.goto("/api/docs/")
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("Orders API")  # the split start-up script ran
    page.goto("/api/redoc/")
    expect(page.locator("redoc h1").first).to_contain_text("Orders API")

    # Redoc's bundle always shows an "API docs by Redocly" logo from a CDN; the policy blocks that
    # fetch (the docs use no CDN), and the browser says so. Any other problem fails the test.
    cdn_logo = "Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg' violates"
    assert [problem for problem in new_page.problems if cdn_logo not in problem] == []


def test_an_injected_inline_script_is_refused(new_page):
    viewer = make_user(VIEW_REPORTS)
    page = new_page()
    log_in(page, "/dashboard/login/?next=/dashboard/", viewer.username)
    expect(page.locator("#kpis")).to_be_visible()

    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = true';"
        " document.body.appendChild(s); }"
    )

    assert page.evaluate("() => window.injected === true") is False
    assert any("Content Security Policy" in problem for problem in new_page.problems), new_page.problems
