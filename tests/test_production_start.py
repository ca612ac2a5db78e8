"""The production start over HTTP: ``Procfile.production`` as ``make serve`` runs it (release with
collectstatic, then gunicorn with the production settings, DEBUG off) serves every static file its
pages name, under hashed names, compressed and cacheable for ever, beside pages whose
Content-Security-Policy is intact; ``/metrics`` answers only its token (ADR 0026).

The same start runs the browser tests (tests/browser/); here the checks need no browser.
"""

import gzip
import re
import urllib.error
import urllib.request

import pytest

from tests import servers

PAGES = ("/dashboard/login/", "/admin/login/", "/api/docs/", "/api/redoc/")
NAMED = re.compile(r'(?:href|src)="(/static/[^"?#]+)"')
# collectstatic's name for a file: its content's hash (12 hex digits) before the extension.
HASHED = re.compile(r"\.[0-9a-f]{12}\.[^./]+$")
FOREVER = "max-age=315360000, public, immutable"


@pytest.fixture(scope="module")
def production(static_root):
    child, url = servers.start("production", static_root=static_root, workers=1)
    try:
        yield url
    finally:
        child.stop()


def get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_every_static_file_the_pages_name_is_served_hashed_compressed_and_cached_for_ever(production):
    named = set()
    for page in PAGES:
        status, headers, body = get(production + page)
        assert status == 200, (page, body[:500])
        if not page.startswith("/admin/"):  # the admin is outside the policy (its templates run inline scripts)
            assert "script-src 'self'" in headers["Content-Security-Policy"], page
        named |= set(NAMED.findall(body.decode()))
    unhashed = {re.sub(r"\.[0-9a-f]{12}(\.[^./]+)$", r"\1", path) for path in named}
    assert {"/static/dashboard/dashboard.css", "/static/admin/css/base.css"} <= unhashed, unhashed

    for path in sorted(named):
        status, headers, body = get(production + path, **{"Accept-Encoding": "gzip"})
        assert status == 200, path
        assert HASHED.search(path), path
        assert headers["Cache-Control"] == FOREVER, (path, headers["Cache-Control"])
        if path.endswith((".css", ".js")) and int(headers["Content-Length"]) > 1024:
            assert headers["Content-Encoding"] == "gzip", path
            gzip.decompress(body)

    status, headers, _ = get(production + "/static/dashboard/no-such-file.css")
    assert status == 404


def test_metrics_answer_only_their_token(production):
    status, headers, body = get(production + "/metrics")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"orders_" not in body
    status, _, body = get(production + "/metrics", Authorization=f"Bearer {servers.METRICS_TOKEN}")
    assert status == 200
    assert b"orders_outbox_head_position" in body
