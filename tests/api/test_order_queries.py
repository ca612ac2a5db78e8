"""Order and customer queries over HTTP: shapes, filters, keyset pagination, history, rights.

State is set up through the domain services and projected by ``drain``; every assertion goes
through the API, as a client would see it.
"""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils.dateparse import parse_datetime

from config.rights import MANAGE_ORDERS
from orders_write.clock import frozen_at
from orders_write.services import (
    LineInput,
    customer_register,
    customer_rename,
    order_cancel,
    order_confirm,
    order_discount_apply,
    order_line_add,
    order_place,
    order_ship,
)
from tests.api.conftest import client_for, make_user

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
CONTRACT_ORDER_FIELDS = {
    "order_id",
    "customer_id",
    "customer_name",
    "status",
    "total",
    "discount",
    "currency",
    "item_count",
    "placed_at",
    "updated_at",
    "version",
}


def place(customer_id: int, sku: str, quantity: int = 1, *, at: datetime | None = None, actor=None) -> int:
    if at is None:
        return order_place(customer_id=customer_id, lines=[LineInput(sku, quantity)], actor=actor).order_id
    with frozen_at(at):
        return order_place(customer_id=customer_id, lines=[LineInput(sku, quantity)], actor=actor).order_id


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["order_id"] for row in response.json()["results"]]


def projection_position(response) -> int:
    header = response["X-Projection-Position"]
    assert header.isdigit(), header
    return int(header)


# --- GET /api/orders/{id}/ ---------------------------------------------------------------


def test_order_detail_is_the_summary_with_its_lines_an_etag_and_the_projection_position(
    clerk_client, drain, make_product
):
    customer = customer_register(name="Grace Hopper", email="grace@example.com").aggregate_id
    tea = make_product(price=450, name="Green tea", sku="TEA-2")
    cup = make_product(price=1200, name="Cup", sku="CUP-1")
    with frozen_at(T0):
        placed = order_place(customer_id=customer, lines=[LineInput(tea, 3), LineInput(cup, 1)])
    with frozen_at(T0 + timedelta(minutes=5)):
        discounted = order_discount_apply(order_id=placed.order_id, percent=10)
    drain()

    response = clerk_client.get(f"/api/orders/{placed.order_id}/")

    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert projection_position(response) >= discounted.position
    body = response.json()
    assert body.keys() >= CONTRACT_ORDER_FIELDS | {"lines"}
    lines = body.pop("lines")
    assert lines == [
        {"sku": "CUP-1", "product_name": "Cup", "quantity": 1, "unit_price": 1200, "line_total": 1200},
        {"sku": "TEA-2", "product_name": "Green tea", "quantity": 3, "unit_price": 450, "line_total": 1350},
    ]
    assert {key: body[key] for key in CONTRACT_ORDER_FIELDS - {"placed_at", "updated_at"}} == {
        "order_id": placed.order_id,
        "customer_id": customer,
        "customer_name": "Grace Hopper",
        "status": "PENDING",
        "total": 2295,  # 2550 - 10 %
        "discount": 255,
        "currency": "EUR",
        "item_count": 4,
        "version": 2,
    }
    assert parse_datetime(body["placed_at"]) == T0
    assert parse_datetime(body["updated_at"]) == T0 + timedelta(minutes=5)
    money = [body["total"], body["discount"], *(line[key] for line in lines for key in ("unit_price", "line_total"))]
    assert all(type(amount) is int for amount in money), "money is an integer in minor units"


def test_order_detail_follows_the_order_through_its_statuses(clerk_client, drain, customer, sku):
    order_id = place(customer, sku)
    order_confirm(order_id=order_id)
    shipped = order_ship(order_id=order_id, tracking_number="TRK-42")
    drain()

    response = clerk_client.get(f"/api/orders/{order_id}/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == ("SHIPPED", 3)
    assert response["ETag"] == '"3"'
    assert projection_position(response) >= shipped.position


@pytest.mark.parametrize("order_id", [987_654_321, 2**63, 10**30])
def test_an_unknown_order_is_a_404_not_found(clerk_client, drain, customer, sku, order_id):
    place(customer, sku)
    drain()

    response = clerk_client.get(f"/api/orders/{order_id}/")

    assert error_of(response, 404, "not_found")["details"] == {}
    assert projection_position(response) > 0, "a 404 says how far the read side had got"


def test_an_order_not_projected_yet_is_a_404_until_the_drain(clerk_client, drain, customer, sku):
    order_id = place(customer, sku)

    error_of(clerk_client.get(f"/api/orders/{order_id}/"), 404, "not_found")
    drain()
    assert clerk_client.get(f"/api/orders/{order_id}/").status_code == 200


def test_a_renamed_customer_reads_under_the_new_name(clerk_client, drain, customer, sku):
    order_id = place(customer, sku)
    customer_rename(customer_id=customer, name="Ada King")
    drain()

    assert clerk_client.get(f"/api/orders/{order_id}/").json()["customer_name"] == "Ada King"
    assert clerk_client.get("/api/orders/").json()["results"][0]["customer_name"] == "Ada King"
    assert clerk_client.get(f"/api/customers/{customer}/").json()["name"] == "Ada King"


# --- GET /api/orders/ ----------------------------------------------------------------------


def test_the_list_is_newest_first_with_ties_broken_by_order_id(clerk_client, drain, customer, sku):
    oldest = place(customer, sku, at=T0 - timedelta(days=1))
    tie_a = place(customer, sku, at=T0)
    tie_b = place(customer, sku, at=T0)
    newest = place(customer, sku, at=T0 + timedelta(seconds=1))
    drain()

    response = clerk_client.get("/api/orders/")

    assert ids(response) == [newest, max(tie_a, tie_b), min(tie_a, tie_b), oldest]
    assert response.json()["next"] is None
    assert projection_position(response) > 0
    assert response.json()["results"][0].keys() >= CONTRACT_ORDER_FIELDS
    assert "lines" not in response.json()["results"][0]


@pytest.fixture
def spread(drain, make_customer, make_product):
    """Orders of two customers an hour apart from T0, in every interesting status."""
    ada, bob = make_customer("Ada"), make_customer("Bob")
    sku = make_product()
    orders = {
        "ada_0": place(ada, sku, at=T0),
        "bob_1": place(bob, sku, at=T0 + timedelta(hours=1)),
        "ada_2": place(ada, sku, at=T0 + timedelta(hours=2)),
        "ada_3": place(ada, sku, at=T0 + timedelta(hours=3)),
        "bob_4": place(bob, sku, at=T0 + timedelta(hours=4)),
    }
    order_confirm(order_id=orders["ada_2"])
    order_cancel(order_id=orders["bob_4"], reason="changed mind")
    order_confirm(order_id=orders["bob_1"])
    drain()
    return {"ada": ada, "bob": bob, **orders}


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer": "ada"}, ["ada_3", "ada_2", "ada_0"]),
        ({"customer": "bob"}, ["bob_4", "bob_1"]),
        ({"status": "CONFIRMED"}, ["ada_2", "bob_1"]),
        ({"status": "CANCELLED"}, ["bob_4"]),
        ({"status": "DELIVERED"}, []),
        ({"placed_after": iso(T0 + timedelta(hours=2))}, ["bob_4", "ada_3", "ada_2"]),  # inclusive
        ({"placed_before": iso(T0 + timedelta(hours=2))}, ["bob_1", "ada_0"]),  # exclusive
        (
            {"placed_after": iso(T0 + timedelta(hours=1)), "placed_before": iso(T0 + timedelta(hours=4))},
            ["ada_3", "ada_2", "bob_1"],
        ),
        ({"placed_after": "2024-03-01T14:00:00+01:00"}, ["bob_4", "ada_3", "ada_2", "bob_1"]),  # 13:00 UTC
        ({"placed_before": "2024-03-01T13:00:00"}, ["ada_0"]),  # no offset: UTC
        ({"customer": "ada", "status": "PENDING"}, ["ada_3", "ada_0"]),
        ({"customer": "ada", "placed_before": iso(T0 + timedelta(hours=3))}, ["ada_2", "ada_0"]),
        ({"placed_after": iso(T0 + timedelta(hours=3)), "placed_before": iso(T0 + timedelta(hours=3))}, []),
    ],
)
def test_filters_combine_with_and(clerk_client, spread, params, expected):
    query = {key: spread[value] if key == "customer" else value for key, value in params.items()}

    response = clerk_client.get("/api/orders/", query)

    assert ids(response) == [spread[name] for name in expected]
    assert response.json()["next"] is None


def test_an_unknown_customer_filter_is_an_empty_page(clerk_client, spread):
    response = clerk_client.get("/api/orders/", {"customer": 987_654_321})

    assert (ids(response), response.json()["next"]) == ([], None)


def _cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"placed_after": "yesterday"}, "placed_after"),
        ({"placed_before": "2024-02-30T00:00:00Z"}, "placed_before"),
        ({"status": "LOST"}, "status"),
        ({"status": "pending"}, "status"),
        ({"customer": "abc"}, "customer"),
        ({"customer": 0}, "customer"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": -5}, "limit"),
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"cursor": _cursor_of("2024-03-01T12:00:00+00:00|abc")}, "cursor"),
        ({"cursor": _cursor_of("2024-03-01T12:00:00|7")}, "cursor"),  # naive time
        ({"cursor": _cursor_of("yesterday|7")}, "cursor"),
        ({"cursor": _cursor_of(f"2024-03-01T12:00:00+00:00|{2**63}")}, "cursor"),
        ({"cursor": "x" * 201}, "cursor"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_the_field(clerk_client, params, field):
    error = error_of(clerk_client.get("/api/orders/", params), 400, "validation_error")

    assert list(error["details"]) == [field]
    assert all(isinstance(message, str) and message for message in error["details"][field])


def test_a_tampered_cursor_from_a_real_page_is_a_400(clerk_client, drain, customer, sku):
    for hour in range(3):
        place(customer, sku, at=T0 + timedelta(hours=hour))
    drain()
    cursor = parse_qs(urlsplit(clerk_client.get("/api/orders/", {"limit": 1}).json()["next"]).query)["cursor"][0]
    assert clerk_client.get("/api/orders/", {"limit": 1, "cursor": cursor}).status_code == 200

    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    placed_at, order_id = text.split("|")
    for tampered in (
        cursor[:-1] + "!",
        "A" + cursor,
        _cursor_of(f"{text}|9"),
        _cursor_of(f"{placed_at}|-{order_id}"),
        _cursor_of(f"{placed_at[:-6]}|{order_id}"),  # the offset cut off
    ):
        error = error_of(clerk_client.get("/api/orders/", {"cursor": tampered}), 400, "validation_error")
        assert list(error["details"]) == ["cursor"]


def test_several_bad_parameters_are_reported_together(clerk_client):
    error = error_of(
        clerk_client.get("/api/orders/", {"status": "LOST", "limit": 0, "placed_after": "soon"}),
        400,
        "validation_error",
    )

    assert set(error["details"]) == {"status", "limit", "placed_after"}


def test_next_keeps_the_filters_and_walks_only_matching_orders(clerk_client, spread, drain, make_product):
    extra_sku = make_product()
    more = [place(spread["ada"], extra_sku, at=T0 + timedelta(hours=5, minutes=m)) for m in range(4)]
    place(spread["bob"], extra_sku, at=T0 + timedelta(hours=6))
    order_cancel(order_id=more[1], reason="duplicate")
    drain()
    wanted = {"customer": spread["ada"], "status": "PENDING", "placed_after": iso(T0 + timedelta(minutes=1))}
    expected = [more[3], more[2], more[0], spread["ada_3"]]  # newest first, not ada_0 (before), not more[1]

    seen, url, pages = [], "/api/orders/", 0
    response = clerk_client.get(url, {**wanted, "limit": 2})
    while True:
        pages += 1
        seen += ids(response)
        next_url = response.json()["next"]
        if next_url is None:
            break
        assert next_url.startswith("http://testserver/api/orders/?")
        query = parse_qs(urlsplit(next_url).query)
        assert {key: value[0] for key, value in query.items() if key != "cursor"} == {
            **{key: str(value) for key, value in wanted.items()},
            "limit": "2",
        }
        response = clerk_client.get(next_url)

    assert seen == expected
    assert pages == 2


def test_walking_pages_while_orders_are_placed_has_no_duplicates_and_no_gaps(clerk_client, drain, customer, sku):
    # 20 originals, several sharing one placed_at so the order_id tie-break is exercised.
    originals = []
    for index in range(20):
        originals.append(place(customer, sku, at=T0 + timedelta(minutes=index // 3)))
    drain()
    newest_first = sorted(originals, key=lambda order_id: (originals.index(order_id) // 3, order_id), reverse=True)

    seen, new = [], []
    response = clerk_client.get("/api/orders/", {"limit": 3})
    while True:
        page = ids(response)
        assert len(page) == 3 or response.json()["next"] is None
        seen += page
        next_url = response.json()["next"]
        if next_url is None:
            break
        # Meanwhile: new (newer) orders arrive and one order still ahead changes status.
        new += [place(customer, sku), place(customer, sku)]
        ahead = [order_id for order_id in newest_first if order_id not in seen]
        if ahead:
            order_confirm(order_id=ahead[0])
        drain()
        response = clerk_client.get(next_url)

    assert len(seen) == len(set(seen)), "an order appeared twice"
    assert not set(seen) & set(new), "an order placed after the first page appeared in a later page"
    assert seen == newest_first, "an original order was missed or out of order"
    assert len(new) == 2 * 6  # 7 pages of at most 3: new orders arrived before every later page
    assert ids(clerk_client.get("/api/orders/", {"limit": 100}))[: len(new)] == sorted(new, reverse=True)


# --- GET /api/customers/{id}/orders/ and /api/customers/{id}/ ---------------------------------


def test_a_customers_orders_are_their_newest_first_up_to_limit(clerk_client, drain, make_customer, sku):
    ada, bob = make_customer("Ada"), make_customer("Bob")
    adas = [place(ada, sku, at=T0 + timedelta(hours=hour)) for hour in range(5)]
    place(bob, sku, at=T0 + timedelta(hours=10))
    drain()

    limited = clerk_client.get(f"/api/customers/{ada}/orders/", {"limit": 3})
    everything = clerk_client.get(f"/api/customers/{ada}/orders/")

    assert ids(limited) == adas[::-1][:3]
    assert limited.json()["next"] is None
    assert projection_position(limited) > 0
    assert ids(everything) == adas[::-1]
    assert everything.json()["results"][0].keys() >= CONTRACT_ORDER_FIELDS
    assert {row["customer_name"] for row in everything.json()["results"]} == {"Ada"}


def test_a_customer_without_orders_has_an_empty_list(clerk_client, drain, make_customer):
    ada = make_customer()
    drain()

    for customer_id in (ada, 987_654_321, 2**63):
        response = clerk_client.get(f"/api/customers/{customer_id}/orders/")
        assert response.status_code == 200
        assert response.json() == {"results": [], "next": None}


@pytest.mark.parametrize("limit", [0, 101, "x"])
def test_a_bad_customer_orders_limit_is_a_400(clerk_client, drain, customer, limit):
    drain()
    error = error_of(clerk_client.get(f"/api/customers/{customer}/orders/", {"limit": limit}), 400, "validation_error")
    assert list(error["details"]) == ["limit"]


def test_customer_detail_is_its_customer_stats_row(clerk_client, drain, make_product):
    customer = customer_register(name="Katherine Johnson", email="kj@example.com").aggregate_id
    sku = make_product(price=1000)
    place(customer, sku, 2, at=T0)  # 2000
    discounted = place(customer, sku, 3, at=T0 + timedelta(days=1))
    order_discount_apply(order_id=discounted, amount=500)  # 2500
    cancelled = place(customer, sku, 1, at=T0 + timedelta(days=2))
    order_cancel(order_id=cancelled, reason="no longer needed")
    drain()

    response = clerk_client.get(f"/api/customers/{customer}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert parse_datetime(body.pop("last_order_at")) == T0 + timedelta(days=2)
    assert body == {
        "customer_id": customer,
        "name": "Katherine Johnson",
        "email": "kj@example.com",
        "is_active": True,
        "order_count": 3,
        "cancelled_count": 1,
        "lifetime_value": 4500,
        "version": 1,
    }
    assert projection_position(response) > 0


@pytest.mark.parametrize("customer_id", [987_654_321, 2**63])
def test_an_unknown_customer_is_a_404_not_found(clerk_client, drain, customer, customer_id):
    drain()
    error_of(clerk_client.get(f"/api/customers/{customer_id}/"), 404, "not_found")


# --- GET /api/orders/{id}/history/ ------------------------------------------------------------


@pytest.fixture
def story(drain, customer, make_product):
    """An order placed by a clerk at T0, given a line at T0+1h and confirmed at T0+2h."""
    clerk = make_user(MANAGE_ORDERS)
    first, second = make_product(price=300, name="Tea"), make_product(price=700, name="Pot")
    with frozen_at(T0):
        placed = order_place(customer_id=customer, lines=[LineInput(first, 2)], actor=clerk)
    with frozen_at(T0 + timedelta(hours=1)):
        added = order_line_add(order_id=placed.order_id, sku=second, quantity=1, actor=clerk)
    with frozen_at(T0 + timedelta(hours=2)):
        confirmed = order_confirm(order_id=placed.order_id, actor=None)
    drain()
    return {
        "order_id": placed.order_id,
        "clerk": clerk,
        "positions": [placed.position, added.position, confirmed.position],
        "skus": (first, second),
        "customer": customer,
    }


def test_history_lists_the_events_in_version_order_with_positions_actor_and_payload(clerk_client, story):
    response = clerk_client.get(f"/api/orders/{story['order_id']}/history/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["order_id"], body["as_of"]) == (story["order_id"], None)
    events = body["events"]
    assert [event["version"] for event in events] == [1, 2, 3]
    assert [event["position"] for event in events] == story["positions"]
    assert [event["event_type"] for event in events] == ["OrderPlaced", "OrderLineAdded", "OrderConfirmed"]
    assert [parse_datetime(event["occurred_at"]) for event in events] == [T0 + timedelta(hours=h) for h in range(3)]
    clerk = story["clerk"]
    assert [event["actor"] for event in events] == [f"user:{clerk.pk}:{clerk.username}"] * 2 + ["system"]
    assert all(isinstance(event["correlation_id"], str) for event in events)
    assert events[0]["payload"]["order_id"] == story["order_id"]
    assert [line["sku"] for line in events[0]["payload"]["lines"]] == [story["skus"][0]]
    assert events[1]["payload"]["line"]["sku"] == story["skus"][1]
    assert events[2]["payload"]["status"] == "CONFIRMED"
    order = body["order"]
    assert (order["status"], order["version"], order["total"], order["item_count"]) == ("CONFIRMED", 3, 1300, 3)
    assert [line["sku"] for line in order["lines"]] == sorted(story["skus"])
    assert projection_position(response) >= story["positions"][-1]


def test_history_as_of_between_two_events_is_the_order_as_it_was_then(clerk_client, story):
    as_of = T0 + timedelta(hours=1, minutes=30)

    response = clerk_client.get(f"/api/orders/{story['order_id']}/history/", {"as_of": iso(as_of)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert parse_datetime(body["as_of"]) == as_of
    assert [event["version"] for event in body["events"]] == [1, 2]
    order = body["order"]
    assert (order["status"], order["version"], order["total"], order["item_count"]) == ("PENDING", 2, 1300, 3)
    assert parse_datetime(order["updated_at"]) == T0 + timedelta(hours=1)
    assert parse_datetime(order["placed_at"]) == T0
    assert [line["sku"] for line in order["lines"]] == sorted(story["skus"])

    at_placement = clerk_client.get(f"/api/orders/{story['order_id']}/history/", {"as_of": iso(T0)}).json()
    assert [event["version"] for event in at_placement["events"]] == [1]
    assert (at_placement["order"]["version"], at_placement["order"]["total"]) == (1, 600)
    assert [line["sku"] for line in at_placement["order"]["lines"]] == [story["skus"][0]]


def test_history_as_of_before_placement_is_a_404(clerk_client, story):
    response = clerk_client.get(
        f"/api/orders/{story['order_id']}/history/", {"as_of": iso(T0 - timedelta(microseconds=1))}
    )
    error_of(response, 404, "not_found")


@pytest.mark.parametrize("order_id", [987_654_321, 2**63])
def test_history_of_an_unknown_order_is_a_404(clerk_client, story, order_id):
    error_of(clerk_client.get(f"/api/orders/{order_id}/history/"), 404, "not_found")
    error_of(clerk_client.get(f"/api/orders/{order_id}/history/", {"as_of": iso(T0)}), 404, "not_found")


@pytest.mark.parametrize("as_of", ["yesterday", "2024-13-01T00:00:00Z", "12:00"])
def test_history_with_a_bad_as_of_is_a_400(clerk_client, story, as_of):
    error = error_of(
        clerk_client.get(f"/api/orders/{story['order_id']}/history/", {"as_of": as_of}), 400, "validation_error"
    )
    assert list(error["details"]) == ["as_of"]


def test_history_needs_no_drain(clerk_client, projected, customer, sku):
    order_id = place(customer, sku)  # not projected: the history reads the outbox itself

    response = clerk_client.get(f"/api/orders/{order_id}/history/")

    assert response.status_code == 200
    assert [event["event_type"] for event in response.json()["events"]] == ["OrderPlaced"]


# --- rights ------------------------------------------------------------------------------------


@pytest.fixture
def readable(drain, customer, sku):
    order_id = place(customer, sku)
    drain()
    return [
        f"/api/orders/{order_id}/",
        "/api/orders/",
        f"/api/orders/{order_id}/history/",
        f"/api/customers/{customer}/",
        f"/api/customers/{customer}/orders/",
    ]


@pytest.mark.parametrize("who", ["manager_client", "clerk_client", "catalog_client", "admin_client_api"])
def test_whoever_holds_a_right_may_read_orders(request, readable, who):
    client = request.getfixturevalue(who)
    for url in readable:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        assert "X-Projection-Position" in response


def test_anonymous_readers_get_a_401(anonymous_client, readable):
    for url in readable:
        response = anonymous_client.get(url)
        error_of(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Token")


def test_a_user_without_any_right_gets_a_403(readable):
    client = client_for(make_user())
    for url in readable:
        error_of(client.get(url), 403, "permission_denied")
