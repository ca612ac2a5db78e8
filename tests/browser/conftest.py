"""Browser tests: Debian's Chromium driven by Playwright against both starts the README gives.

- Each test runs against the quick start (``make run``: runserver, DEBUG on) and against the
  production start (``make serve``: ``Procfile.production``'s release with collectstatic, then
  gunicorn with the production settings, static files from WhiteNoise); see ``tests/servers.py``.
  A server is started for each test (a few seconds), as its caches must not outlive the
  database's flush between tests; collectstatic runs once per session.
- No browser download: Playwright launches ``/usr/bin/chromium`` (``make test`` installs it).
- Playwright's sync API keeps an event loop running in the test thread while it is started, so
  Django's ORM would refuse to run there (``SynchronousOnlyOperation``).
  ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for exactly as long as Playwright runs (this module's
  fixtures), not for the rest of the suite.
- django-q2 runs in sync mode, in the server (``Q_SYNC``) and in this process: each command's
  nudge drains the outbox inline right after it commits.
- The read tables are unmanaged (Django's flush skips them): emptied before and after each test.
- Artefacts (screenshots, a failing page's screenshot) go to ``var/test-artifacts/`` (ignored by git).
"""

import functools
import itertools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission
from django_q.conf import Conf

from projections.runtime.loop import drain_all
from projections.runtime.registry import consumers
from projections.runtime.watermark import watermark
from tests import servers
from tests.read_tables import empty_read_tables

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"
TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 900}  # a laptop
PASSWORD = "browser-pw-123"

_usernames = itertools.count(1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the page fixture can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(params=servers.MODES)
def site(request, transactional_db) -> Iterator[str]:
    """The base URL of a server started the way the README says, for each of its two starts."""
    static_root = request.getfixturevalue("static_root") if request.param == "production" else None
    marker = request.node.get_closest_marker("server_env")
    child, url = servers.start(request.param, static_root=static_root, **(marker.kwargs if marker else {}))
    try:
        yield url
    finally:
        child.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _problem(response) -> str | None:
    """A failed request (4xx/5xx, but the favicon the admin's pages do not name), or a static file
    answered neither 200 nor 304 (the browser checking a copy it keeps, as under ``make run``)."""
    if response.url.endswith("/favicon.ico"):
        return None
    if response.status >= 400 or ("/static/" in response.url and response.status not in (200, 304)):
        return f"{response.status} {response.url}"
    return None


@pytest.fixture
def new_page(browser, site, artifacts, request):
    """Open pages in fresh browser contexts (own cookies) on the server; collect page errors.

    JavaScript errors, console errors, failed requests and static files answered neither 200 nor
    304 are gathered in ``problems``; the tests assert there are none. Static files answered are
    in ``assets`` (URL to its first response); ``mode`` names the start. When the test fails, each
    page open at that moment is saved as ``failed-<test>-<n>.png``.
    """
    contexts = []
    problems: list[str] = []
    assets: dict = {}

    def on_response(response) -> None:
        if "/static/" in response.url:
            assets.setdefault(response.url, response)
        if (problem := _problem(response)) is not None:
            problems.append(problem)

    def open_page():
        context = browser.new_context(base_url=site, viewport=VIEWPORT, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")  # the response handler has those
                and problems.append(f"console: {message.text}")
            ),
        )
        page.on("response", on_response)
        return page

    open_page.problems = problems
    open_page.assets = assets
    open_page.mode = request.node.callspec.params["site"]
    yield open_page
    report = getattr(request.node, "report_call", None)
    test_name = re.sub(r"\W+", "-", request.node.name)
    for number, context in enumerate(contexts, start=1):
        if report is not None and report.failed:
            for page in context.pages:
                path = artifacts / f"failed-{test_name}-{number}.png"
                page.screenshot(path=path, full_page=True)
                print(f"screenshot of the failing page: {path}")
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(autouse=True)
def sync_worker(monkeypatch) -> None:
    """Run django-q2 tasks inline: a command's nudge drains the outbox right after it commits."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def clean_read_side(transactional_db, browser) -> Iterator[None]:
    """Start, and leave, the unmanaged read tables and the shared cache empty (flush skips them)."""
    empty_read_tables()
    yield
    empty_read_tables()


DASHBOARD_CHARTS = ("chart-revenue-canvas", "chart-orders-canvas", "chart-status-canvas")


def wait_for_charts_drawn(page) -> None:
    """Wait until Chart.js has drawn every chart of the dashboard: a Chart on each canvas, pixels on it."""
    page.wait_for_function(
        """ids => window.Chart && ids.every(id => {
            const chart = Chart.getChart(id);
            if (!chart) return false;
            const canvas = chart.canvas;
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] !== 0) return true;
            return false;
        })""",
        arg=list(DASHBOARD_CHARTS),
    )


@functools.cache
def _password_hash() -> str:
    """PASSWORD hashed as the servers hash it (Django's default hasher): they do not know the
    test settings' fast one. Once per session: the default hasher is slow on purpose."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(PASSWORD, hasher.salt())


def make_user(*rights: str, staff: bool = False, superuser: bool = False):
    """Create a user holding exactly ``rights`` ("app_label.codename"); their password is PASSWORD."""
    user = get_user_model().objects.create_user(username=f"browser{next(_usernames)}")
    user.password = _password_hash()
    user.is_staff = staff or superuser
    user.is_superuser = superuser
    user.save()
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


@pytest.fixture
def projected():
    """Wait until every projection has applied the whole outbox (returns the outbox head).

    In sync mode each command's drain ran inline after its commit, so this normally returns at
    once. The drain reads only events older than every transaction open on the PostgreSQL
    cluster (ADR 0008), and other suites may hold one open for a moment; if the projections are
    still behind after a short grace, drain again here, as the worker's minute sweep would.
    """

    def wait(timeout: float = 20.0) -> int:
        names = tuple(consumers())
        start = time.monotonic()
        while True:
            head = watermark(())
            if watermark(names) >= head:
                return head
            waited = time.monotonic() - start
            if waited > timeout:
                pytest.fail(f"projections did not reach outbox head {head} within {timeout} s")
            if waited > 2.0:
                print(f"projections behind outbox head {head} after {waited:.1f} s; draining here")
                drain_all()
            time.sleep(0.1)

    return wait
