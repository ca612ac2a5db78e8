"""The Content-Security-Policy in Chromium: the dashboard and both API docs render with it, and
it really blocks what it should (an injected inline script is refused, as a console error)."""

from playwright.sync_api import expect

from config.rights import VIEW_REPORTS
from tests.browser.conftest import make_user
from tests.browser.test_staff_journey import log_in


def test_the_dashboard_and_the_api_docs_render_under_the_policy(new_page):
    viewer = make_user(VIEW_REPORTS)
    page = new_page()
    log_in(page, "/dashboard/login/?next=/dashboard/", viewer.username)
    expect(page.locator("#kpis")).to_be_visible()
    expect(page.locator("canvas").first).to_be_visible()  # Chart.js ran (a script file)

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
