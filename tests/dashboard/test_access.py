"""Who may open the dashboard and its CSV exports, and how a report viewer logs in and out."""

import pytest
from django.test import Client

from config.rights import MANAGE_ORDERS, VIEW_REPORTS
from orders_read.dashboard.export import TABLES
from tests.dashboard.conftest import PASSWORD, logged_in, make_user

pytestmark = pytest.mark.usefixtures("read_tables")

PAGES = ["/dashboard/", "/dashboard/export/daily-sales.csv"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page_with_next(path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/login/?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_a_report_viewer_who_is_not_staff_sees_the_dashboard(viewer, viewer_client, path):
    assert not viewer.is_staff

    assert viewer_client.get(path).status_code == 200


def test_a_report_viewer_cannot_open_the_admin(viewer_client):
    response = viewer_client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", ["/dashboard/", *(f"/dashboard/export/{table}.csv" for table in TABLES)])
def test_staff_without_the_reports_right_are_refused_the_dashboard_and_every_csv(staff_client, path):
    response = staff_client.get(path)

    assert response.status_code == 403
    assert VIEW_REPORTS in response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_staff_holding_the_reports_right_see_the_dashboard(path):
    assert logged_in(make_user(VIEW_REPORTS, staff=True)).get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_a_logged_in_user_without_the_right_is_refused(path):
    client = logged_in(make_user(MANAGE_ORDERS))

    response = client.get(path)

    assert response.status_code == 403
    assert VIEW_REPORTS in response.content.decode()


def test_an_inactive_staff_member_is_refused(db):
    user = make_user(staff=True)
    client = logged_in(user)
    user.is_active = False
    user.save()

    assert client.get("/dashboard/").status_code in (302, 403)


def test_a_report_viewer_logs_in_on_the_site_login_page_where_the_admin_login_refuses_them(viewer):
    admin_login = Client().post("/admin/login/", {"username": viewer.username, "password": PASSWORD})
    assert admin_login.status_code == 200  # the form again: the admin admits staff only
    assert "_auth_user_id" not in admin_login.wsgi_request.session

    client = Client()
    page = client.get("/dashboard/login/?next=/dashboard/")
    assert page.status_code == 200
    assert 'name="next" value="/dashboard/"' in page.content.decode()

    response = client.post(
        "/dashboard/login/", {"username": viewer.username, "password": PASSWORD, "next": "/dashboard/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_logging_out_is_a_post_and_ends_the_session(viewer_client):
    page = viewer_client.get("/dashboard/").content.decode()
    assert 'action="/dashboard/logout/"' in page

    response = viewer_client.post("/dashboard/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/login/"
    assert viewer_client.get("/dashboard/").status_code == 302


def test_the_dashboard_answers_only_get_and_head(viewer_client):
    assert viewer_client.head("/dashboard/").status_code == 200
    assert viewer_client.post("/dashboard/").status_code == 405
    assert viewer_client.post("/dashboard/export/daily-sales.csv").status_code == 405


def test_the_admin_link_is_shown_to_staff_only(viewer_client):
    assert 'href="/admin/"' not in viewer_client.get("/dashboard/").content.decode()
    staff_viewer = logged_in(make_user(VIEW_REPORTS, staff=True))
    assert 'href="/admin/"' in staff_viewer.get("/dashboard/").content.decode()
