"""The staff journey in a real browser (headless Chromium), end to end on a live server.

A staff member logs in to the admin, places an order on the "place order" page, confirms it
with the order page's button, ships it with the list's action (its page in between asks for the
tracking number), sees it on the dashboard, filters the dashboard by date, downloads a CSV and
opens the projections' health page. A report viewer sees the dashboard but not the admin.
Screenshots of the dashboard (laptop and tablet width) and of the order's admin page are kept in
``var/test-artifacts/``.
"""

import csv
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from config.rights import VIEW_REPORTS
from orders_read.dashboard.export import TABLES
from orders_read.dashboard.range import today_utc
from orders_write.services import customer_register, product_add
from projections.runtime.registry import consumers
from tests.browser.conftest import PASSWORD, VIEWPORT, make_user, wait_for_charts_drawn

ORDERS = "/admin/orders_write/order/"
MIN_SCREENSHOT_BYTES = 20_000
TABLET = {"width": 768, "height": 1024}


def log_in(page, login_path: str, username: str) -> None:
    page.goto(login_path)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form#login-form [type=submit]").click()


def messages(page):
    return page.locator("ul.messagelist")


def reload_until(page, locator, timeout_s: float = 5.0) -> None:
    """Reload until ``locator`` is visible: read-side pages show what was projected when they rendered."""
    for _ in range(int(timeout_s / 0.5)):
        if locator.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(locator).to_be_visible()


def overflows_sideways(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")


def screenshot(page, path) -> None:
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > MIN_SCREENSHOT_BYTES, f"{path} is suspiciously small"
    print(f"screenshot: {path}")


# One login, as with `make run`: the production start requires a second factor of a manager, which
# tests/browser/test_staff_two_factor.py walks through on both starts.
@pytest.mark.server_env(STAFF_2FA="optional")
def test_staff_places_confirms_and_ships_an_order_then_reads_it_on_the_dashboard(
    new_page, projected, artifacts, tmp_path
):
    staff = make_user(superuser=True)
    customer_register(name="Grace Hopper", email="grace@example.com")
    product_add(sku="TEA-GREEN", name="Green tea", price=1250)
    product_add(sku="MUG-BLUE", name="Blue mug", price=899)
    page = new_page()

    # Log in through the admin's own login page.
    log_in(page, "/admin/login/?next=/admin/", staff.username)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_be_visible()

    # Place an order: the list's "Place order" link opens the page with the customer and the lines.
    page.goto(ORDERS)
    page.click("#place-order-link")
    expect(page.locator("#place-order-form")).to_be_visible()
    page.get_by_label("Customer").fill("grace@example.com")
    page.get_by_label("SKU of line 1").fill("TEA-GREEN")
    page.get_by_label("Quantity of line 1").fill("2")
    page.get_by_label("SKU of line 2").fill("MUG-BLUE")
    page.get_by_label("Quantity of line 2").fill("1")
    page.click("#place-order")
    expect(messages(page)).to_contain_text(re.compile(r"Order \d+ placed\. It is pending, at version 1\."))
    order_id = int(re.search(r"/orders_write/order/(\d+)/change/", page.url).group(1))
    order_page = f"{ORDERS}{order_id}/change/"
    expect(page.locator(".field-status .readonly")).to_have_text("Pending")
    lines = page.locator("#order-lines tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.filter(has_text="TEA-GREEN")).to_contain_text("Green tea")
    expect(page.locator(".field-total_display .readonly")).to_have_text("€33.99")

    # Confirm it with the order page's button.
    page.click("#order-confirm")
    expect(messages(page)).to_contain_text(f"Order {order_id} confirmed. It is now at version 2.")
    expect(page.locator(".field-status .readonly")).to_have_text("Confirmed")
    expect(page.locator("#order-ship-form")).to_be_visible()  # shipping is offered once confirmed

    # Ship it with the list's action; the page in between asks for the tracking number.
    page.goto(ORDERS)
    row = page.locator("#result_list tbody tr", has=page.locator(f"input.action-select[value='{order_id}']"))
    expect(row).to_contain_text("Confirmed")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "ship_orders")
    page.locator("#changelist-form button[name=index]").click()
    expect(page.locator("h1")).to_have_text("Ship orders")
    expect(page.locator("#ship-orders tbody tr")).to_have_count(1)
    page.get_by_label(f"Tracking number for order {order_id}").fill("TRACK-123-XYZ")
    page.click("#ship_orders-apply")
    expect(page).to_have_url(re.compile(r"/admin/orders_write/order/(\?.*)?$"))
    expect(messages(page)).to_contain_text(f"Shipped: Order {order_id}.")
    expect(row).to_contain_text("Shipped")

    # The order page shows it shipped, with its tracking number and its three events.
    page.goto(order_page)
    expect(page.locator(".field-status .readonly")).to_have_text("Shipped")
    expect(page.locator(".field-tracking_number .readonly")).to_have_text("TRACK-123-XYZ")
    expect(page.locator("#order-events tbody tr")).to_have_count(3)
    expect(page.locator("#order-events")).to_contain_text("OrderShipped")
    expect(page.locator("#order-deliver")).to_be_visible()
    screenshot(page, artifacts / "order-admin.png")

    # The dashboard shows the order among the recent ones and counts it (projected in sync mode).
    projected()
    page.goto("/dashboard/")
    expect(page.locator("h1")).to_have_text("Sales dashboard")
    recent = page.locator(f"#recent-order-{order_id}")
    reload_until(page, recent)
    expect(recent).to_contain_text("Shipped")
    expect(recent).to_contain_text("Grace Hopper")
    expect(recent).to_contain_text("€33.99")
    expect(recent.get_by_role("link", name=f"Admin page of order {order_id}")).to_have_attribute(
        "href", f"/admin/orders_write/order/{order_id}/change/"
    )
    expect(page.locator("#kpi-orders .kpi__value")).to_have_attribute("data-value", "1")
    expect(page.locator("#kpi-revenue .kpi__value")).to_have_attribute("data-value", "3399")
    expect(page.locator("#data-as-of")).to_contain_text("(up to date)")
    expect(page.locator("#table-top-products")).to_contain_text("Green tea")
    expect(page.locator("#table-top-customers")).to_contain_text("Grace Hopper")
    # Chart.js (vendored, no CDN) drew the three charts.
    wait_for_charts_drawn(page)
    assert not overflows_sideways(page)
    screenshot(page, artifacts / "dashboard.png")
    page.set_viewport_size(TABLET)  # the layout must work on a tablet too: no sideways scrolling
    page.wait_for_function("() => Chart.getChart('chart-revenue-canvas').width < 760")
    assert not overflows_sideways(page)
    screenshot(page, artifacts / "dashboard-tablet.png")
    page.set_viewport_size(VIEWPORT)

    # Filter by date: a custom range without the order, then a preset with it.
    today = today_utc()
    week_ago = today - timedelta(days=7)
    yesterday = today - timedelta(days=1)
    page.fill("#id_from", week_ago.isoformat())
    page.fill("#id_to", yesterday.isoformat())
    page.click("#range-apply")
    expect(page).to_have_url(re.compile(r"/dashboard/\?"))
    assert parse_qs(urlsplit(page.url).query) == {"from": [week_ago.isoformat()], "to": [yesterday.isoformat()]}
    expect(page.locator("#range-summary time").first).to_have_attribute("datetime", week_ago.isoformat())
    expect(page.locator("#table-recent-orders")).to_have_text("No orders placed in this range.")
    expect(page.locator("#kpi-orders .kpi__value")).to_have_attribute("data-value", "0")
    expect(page.locator("#id_from")).to_have_value(week_ago.isoformat())

    page.click("#preset-today")
    assert parse_qs(urlsplit(page.url).query) == {"range": ["today"]}
    expect(page.locator("#preset-today")).to_have_attribute("aria-current", "true")
    expect(page.locator(f"#recent-order-{order_id}")).to_be_visible()
    expect(page.locator("#kpi-orders .kpi__value")).to_have_attribute("data-value", "1")

    # Download the recent orders as CSV: the header row and the order, for today's range.
    expect(page.locator("#export-recent-orders")).to_have_attribute(
        "href", f"/dashboard/export/recent-orders.csv?from={today.isoformat()}&to={today.isoformat()}"
    )
    with page.expect_download() as download_info:
        page.click("#export-recent-orders")
    download = download_info.value
    assert download.suggested_filename == f"recent-orders_{today.isoformat()}_{today.isoformat()}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == TABLES["recent-orders"].header
    records = [dict(zip(rows[0], values, strict=True)) for values in rows[1:]]
    assert [(r["order_id"], r["customer_name"], r["status"], r["total_minor_units"]) for r in records] == [
        (str(order_id), "Grace Hopper", "SHIPPED", "3399")
    ]

    # The projections' health page in the admin: every projection applied everything, idle.
    page.goto("/admin/")
    page.get_by_role("link", name="Projection health").first.click()
    expect(page.locator("h1")).to_have_text("Projection health")
    names = sorted(consumers())
    expect(page.locator("#projection-health tbody tr")).to_have_count(len(names))
    for name in names:
        expect(page.locator(f"#projection-{name}")).to_have_attribute("data-state", "idle")
        expect(page.locator(f"#projection-{name}-state")).to_have_text("Idle")
        expect(page.locator(f"#projection-{name}-lag-events")).to_have_text("0")
        expect(page.locator(f"#projection-{name}-error")).to_have_text("—")

    assert new_page.problems == []


def test_report_viewer_sees_the_dashboard_but_not_the_admin(new_page):
    viewer = make_user(VIEW_REPORTS)
    page = new_page()

    # Anonymous: the dashboard sends to its login page, which brings the viewer back.
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/login/\?next=/dashboard/$"))
    log_in(page, page.url, viewer.username)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("h1")).to_have_text("Sales dashboard")
    expect(page.locator("#site-header")).to_contain_text(f"Signed in as {viewer.username}")
    expect(page.locator("#site-header").get_by_role("link", name="Admin")).to_have_count(0)
    expect(page.locator("#kpis")).to_be_visible()

    # The admin does not let a non-staff user in: back to the admin's login page.
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.locator("#content")).to_contain_text(f"You are authenticated as {viewer.username}")
    page.goto(ORDERS)
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/orders_write/order/$"))

    assert new_page.problems == []
