"""API tokens (ADR 0022): shown once, stored as a digest, expiring, revocable, one SELECT to check."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import ADOPTED_NAME, adopt_legacy_tokens, api_token_issue, token_issue_refusal
from config.rights import VIEW_REPORTS
from projections.runtime.registry import consumers
from tests.api.conftest import make_user

pytestmark = pytest.mark.django_db
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def get_with(token: str, path: str = "/api/projections/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(path)


def create_api_token(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def tables_holding(text: str) -> list[str]:
    """Every ``table.column`` of a text-like type, in every table of the database, containing ``text``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = ANY(%s)",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        assert len(columns) > 50, "the scan must see the whole schema"
        found = []
        for table, column in columns:
            cursor.execute(
                f"SELECT 1 FROM {connection.ops.quote_name(table)} "
                f"WHERE strpos({connection.ops.quote_name(column)}::text, %s) > 0 LIMIT 1",
                [text],
            )
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def test_create_api_token_prints_only_a_token_that_authenticates_with_its_name_and_expiry():
    user = make_user(VIEW_REPORTS)
    output = create_api_token(user.get_username(), "--name", "nightly export", "--expires-days", "7")

    assert re.fullmatch(r"[0-9a-f]{64}\n", output)
    token = output.strip()
    response = get_with(token)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == list(consumers())
    row = ApiToken.objects.get(user=user)
    assert row.name == "nightly export"
    assert timedelta(days=6, hours=23) < row.expiry - timezone.now() <= timedelta(days=7)
    assert row.last_used_at is not None


def test_create_api_token_defaults_to_the_configured_expiry_and_refuses_bad_input(settings):
    user = make_user(VIEW_REPORTS)
    settings.API_TOKEN_EXPIRY_DAYS = 30
    create_api_token(user.get_username())
    assert timedelta(days=29) < ApiToken.objects.get(user=user).expiry - timezone.now() <= timedelta(days=30)
    with pytest.raises(CommandError, match="no user 'nobody'"):
        create_api_token("nobody")
    with pytest.raises(CommandError):
        create_api_token(user.get_username(), "--expires-days", "0")


def test_no_token_is_stored_in_plain_text_anywhere(admin_client):
    user = make_user(VIEW_REPORTS)
    from_command = create_api_token(user.get_username(), "--name", "cli").strip()
    page = admin_client.post("/admin/api/apitoken/add/", {"user": user.pk, "name": "admin", "expires_days": 5})
    from_admin = re.search(r'<code id="issued-token">([0-9a-f]{64})</code>', page.content.decode()).group(1)
    for token in (from_command, from_admin):
        assert get_with(token).status_code == 200  # used: the last-used time is written too

    assert "auth_user.username" in tables_holding(user.get_username())  # the scan finds what is there
    for token in (from_command, from_admin):
        assert tables_holding(token) == []
        assert tables_holding(token[15:]) == []  # not even the part after the stored prefix


def test_an_expired_token_is_401(clerk_client):
    token_row, token = api_token_issue(user=make_user(VIEW_REPORTS), expires_in=timedelta(days=1))
    assert get_with(token).status_code == 200
    ApiToken.objects.filter(pk=token_row.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    response = get_with(token)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response.json()["error"]["message"] == "Token expired."
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_revoked_in_the_admin_is_401_and_the_users_other_tokens_keep_working(admin_client):
    user = make_user(VIEW_REPORTS)
    revoked_row, revoked = api_token_issue(user=user, name="leaked")
    _kept_row, kept = api_token_issue(user=user, name="kept")
    assert get_with(revoked).status_code == 200

    response = admin_client.post(f"/admin/api/apitoken/{revoked_row.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert get_with(revoked).status_code == 401
    assert get_with(revoked).json()["error"]["code"] == "authentication_failed"
    assert get_with(kept).status_code == 200


def test_the_admin_shows_a_token_once_and_never_lists_a_usable_key(admin_client):
    user = make_user(VIEW_REPORTS)
    assert admin_client.get("/admin/api/apitoken/add/").status_code == 200

    page = admin_client.post("/admin/api/apitoken/add/", {"user": user.pk, "name": "shop", "expires_days": 3})

    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    token = re.search(r'<code id="issued-token">([0-9a-f]{64})</code>', page.content.decode()).group(1)
    assert get_with(token).status_code == 200
    row = ApiToken.objects.get(user=user)
    assert row.name == "shop" and timedelta(days=2, hours=23) < row.expiry - timezone.now() <= timedelta(days=3)
    listing = admin_client.get("/admin/api/apitoken/").content.decode()
    change = admin_client.get(f"/admin/api/apitoken/{row.pk}/change/").content.decode()
    assert token[:8] in listing  # enough to tell tokens apart...
    for shown in (listing, change):
        assert token not in shown and token[:16] not in shown  # ...never the key
    assert get_with(row.digest).status_code == 401  # the digest (the row's id in admin URLs) is no key


def test_the_token_check_is_one_select_joined_with_the_user_and_last_used_is_written_once_a_minute():
    token_row, token = api_token_issue(user=make_user(VIEW_REPORTS))

    with CaptureQueriesContext(connection) as first:
        assert get_with(token).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert get_with(token).status_code == 200

    def token_statements(captured):
        return [query["sql"] for query in captured.captured_queries if "api_token" in query["sql"]]

    assert [sql.split()[0] for sql in token_statements(first)] == ["SELECT", "UPDATE"]
    (lookup,) = token_statements(second)
    assert lookup.startswith("SELECT") and " JOIN auth_user " in lookup
    ApiToken.objects.filter(pk=token_row.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    with CaptureQueriesContext(connection) as later:
        assert get_with(token).status_code == 200
    assert [sql.split()[0] for sql in token_statements(later)] == ["SELECT", "UPDATE"]


@pytest.mark.parametrize("header", ["Token " + "f" * 64, "Token " + "é" * 10, "Token " + "a" * 500])
def test_unknown_or_malformed_tokens_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/projections/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_plain_text_drf_authtoken_keys_are_adopted_as_digests_and_erased():
    user = make_user(VIEW_REPORTS)
    legacy_key = "0123456789abcdef0123456789abcdef01234567"  # DRF authtoken's shape: 40 hex
    with connection.cursor() as cursor:  # the table as DRF's authtoken app left it (rolled back after)
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL, "
            "user_id integer NOT NULL UNIQUE)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, now() - interval '400 days', %s)", [legacy_key, user.pk]
        )

    assert adopt_legacy_tokens(connection) == 1

    assert get_with(legacy_key).status_code == 200
    adopted = ApiToken.objects.get(user=user)
    assert adopted.name == ADOPTED_NAME and adopted.expiry is None
    assert timezone.now() - adopted.created > timedelta(days=399)
    assert tables_holding(legacy_key) == []


def staff_issuer(*rights: str):
    """A logged-in staff user holding the token admin's add and view rights and ``rights``."""
    user = make_user("api.add_apitoken", "api.view_apitoken", *rights)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return user, client


def issue_in_admin(client: Client, user, days: int = 3):
    return client.post("/admin/api/apitoken/add/", {"user": user.pk, "name": "mine", "expires_days": days})


def test_staff_issue_tokens_only_for_themselves_never_for_a_superuser_or_a_colleague():
    issuer, client = staff_issuer(VIEW_REPORTS)
    superuser = make_user(superuser=True)
    colleague = make_user(VIEW_REPORTS)  # even one holding no more rights than the issuer

    for target in (superuser, colleague):
        page = issue_in_admin(client, target)
        assert page.status_code == 200 and "you may issue API tokens only for yourself" in page.content.decode()
        assert not ApiToken.objects.filter(user=target).exists()

    assert client.get("/admin/api/apitoken/add/").context["adminform"].form.initial["user"] == issuer.pk
    own = issue_in_admin(client, issuer)
    token = re.search(r'<code id="issued-token">([0-9a-f]{64})</code>', own.content.decode()).group(1)
    assert get_with(token).status_code == 200
    assert ApiToken.objects.get(user=issuer).user_id == issuer.pk


def test_a_superuser_issues_for_others_and_nobody_issues_beyond_their_rights():
    superuser = make_user(superuser=True)
    superuser.is_staff = True
    superuser.save()
    admin = Client()
    admin.force_login(superuser)
    for target in (make_user(VIEW_REPORTS), make_user(superuser=True)):
        assert issue_in_admin(admin, target).status_code == 200
        assert ApiToken.objects.filter(user=target).count() == 1

    issuer = make_user(VIEW_REPORTS)
    assert token_issue_refusal(issuer=issuer, user=issuer) is None
    assert token_issue_refusal(issuer=issuer, user=make_user(superuser=True)) is not None
    demoted = make_user(superuser=True)
    demoted.is_active = False  # an inactive superuser holds no right, so it issues for nobody else
    assert token_issue_refusal(issuer=demoted, user=issuer) is not None


def test_a_token_lives_at_most_the_configured_maximum():
    issuer, client = staff_issuer(VIEW_REPORTS)

    page = issue_in_admin(client, issuer, days=3650)

    assert page.status_code == 200 and "expires_days" in page.context["adminform"].form.errors
    assert not ApiToken.objects.filter(user=issuer).exists()
    with pytest.raises(CommandError, match="API_TOKEN_MAX_EXPIRY_DAYS"):
        create_api_token(issuer.get_username(), "--expires-days", "3650")
    assert not ApiToken.objects.filter(user=issuer).exists()
