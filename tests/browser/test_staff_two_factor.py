"""Staff two-factor in a real browser (ADR 0030): a superuser enrols under the site's CSP.

With ``STAFF_2FA=required`` the password leads to the enrol page; its QR code (a server-drawn
SVG ``data:`` image) must render under the Content-Security-Policy, with no console error, and
the first code from the shown secret opens the admin. A screenshot of the enrol page is kept in
``var/test-artifacts/``.
"""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.conftest import make_user
from tests.browser.test_staff_journey import log_in, screenshot
from tests.staff_auth.logins import code


@pytest.mark.server_env(STAFF_2FA="required")
def test_a_superuser_enrols_a_device_by_its_qr_code_and_reaches_the_admin(new_page, artifacts):
    superuser = make_user(superuser=True)
    page = new_page()

    log_in(page, "/admin/login/?next=/admin/", superuser.username)

    expect(page).to_have_url(re.compile(r"/two-factor/enrol/\?next=/admin/$"))
    expect(page.locator("#enrol-qr-code")).to_be_visible()
    assert page.evaluate("() => document.getElementById('enrol-qr-code').naturalWidth") > 0, "the QR code rendered"
    device = TOTPDevice.objects.get(user=superuser, confirmed=False)
    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    assert device.config_url.split("secret=")[1].startswith(secret)
    screenshot(page, artifacts / "two-factor-enrol.png")

    page.fill("#id_code", code(device))
    page.locator("#code-submit").click()

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_have_text("Orders admin")
    assert new_page.problems == []
