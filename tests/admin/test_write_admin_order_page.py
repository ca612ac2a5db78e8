"""The order page: each command button runs its service with the version seen, as the staff member.

Refusals (a stale version, a broken rule, an illegal status move, missing input) come back
as admin messages and write nothing; the order's fields themselves never save.
"""

import pytest

from config.rights import MANAGE_CATALOG, MANAGE_ORDERS
from orders_write.lookups import order_count
from orders_write.services import LineInput, customer_register, order_confirm, order_place, order_ship
from tests.admin.test_write_admin_support import actor, log_in, messages_of, outbox

pytestmark = pytest.mark.django_db


def page(order_id: int) -> str:
    return f"/admin/orders_write/order/{order_id}/change/"


def confirmed(make_order):
    placed = make_order()
    return order_confirm(order_id=placed.order_id)


def shipped(make_order):
    result = confirmed(make_order)
    return order_ship(order_id=result.order_id, tracking_number="TRK-1")


def two_lines(make_order):
    return make_order((1000, 1), (500, 2))


@pytest.mark.parametrize(
    ("setup", "button", "fields", "event"),
    [
        pytest.param(lambda m: m(), "_confirm", {}, "OrderConfirmed", id="confirm"),
        pytest.param(confirmed, "_ship", {"tracking_number": "TRK-42"}, "OrderShipped", id="ship"),
        pytest.param(shipped, "_deliver", {}, "OrderDelivered", id="deliver"),
        pytest.param(lambda m: m(), "_cancel", {"reason": "customer asked"}, "OrderCancelled", id="cancel"),
        pytest.param(confirmed, "_cancel", {"reason": "out of stock"}, "OrderCancelled", id="cancel-confirmed"),
        pytest.param(lambda m: m(), "_apply_discount", {"percent": "10"}, "OrderDiscountApplied", id="percent"),
        pytest.param(lambda m: m(), "_apply_discount", {"amount": "100"}, "OrderDiscountApplied", id="amount"),
    ],
)
def test_each_command_button_runs_its_service_as_the_staff_member(client, make_order, setup, button, fields, event):
    staff = log_in(client, MANAGE_ORDERS)
    order = setup(make_order)
    response = client.post(page(order.order_id), {button: "", "expected_version": order.version, **fields})
    assert response.status_code == 302 and response.url == page(order.order_id)
    assert outbox()[-1] == (event, actor(staff))
    assert f"It is now at version {order.version + 1}." in messages_of(response)[0]


def test_add_line_and_remove_line_change_the_lines(client, make_order, make_product):
    staff = log_in(client, MANAGE_ORDERS)
    order = two_lines(make_order)
    new_sku = make_product(price=300)
    client.post(page(order.order_id), {"_add_line": "", "expected_version": 1, "sku": new_sku, "quantity": "3"})
    response = client.get(page(order.order_id))
    lines = [row["line"].sku for row in response.context["order_lines"]]
    assert new_sku in lines and len(lines) == 3
    assert 'id="remove-line-1"' in response.content.decode()
    client.post(page(order.order_id), {"_remove_line": "", "expected_version": 2, "sku": new_sku})
    assert [event for event, _ in outbox()[-2:]] == ["OrderLineAdded", "OrderLineRemoved"]
    assert {who for _, who in outbox()[-2:]} == {actor(staff)}


def test_a_stale_version_is_refused_with_a_message_and_nothing_is_written(client, make_order):
    log_in(client, MANAGE_ORDERS)
    placed = make_order()
    order_confirm(order_id=placed.order_id)  # someone else, meanwhile: version 2
    before = outbox()
    response = client.post(page(placed.order_id), {"_cancel": "", "expected_version": 1, "reason": "too late"})
    assert response.status_code == 302
    (message,) = messages_of(response)
    assert "Someone changed this order after you opened it: you saw version 1, it is now at version 2" in message
    assert outbox() == before


@pytest.mark.parametrize(
    ("button", "fields", "expected"),
    [
        pytest.param("_remove_line", {"sku": None}, "an order needs at least one line", id="last-line"),
        pytest.param("_apply_discount", {"amount": "999999"}, "discount exceeds the order's subtotal", id="discount"),
        pytest.param("_deliver", {}, "cannot deliver an order that is PENDING", id="transition"),
        pytest.param("_add_line", {"sku": "NO-SUCH", "quantity": "1"}, "unknown product", id="unknown-sku"),
    ],
)
def test_a_broken_rule_is_refused_with_a_message_and_nothing_is_written(client, make_order, button, fields, expected):
    log_in(client, MANAGE_ORDERS)
    placed = make_order()
    if fields.get("sku", "") is None:
        fields = {"sku": order_line_sku(placed.order_id, client)}
    before = outbox()
    response = client.post(page(placed.order_id), {button: "", "expected_version": 1, **fields})
    (message,) = messages_of(response)
    assert expected.lower() in message.lower()
    assert message.endswith("Nothing was saved.")
    assert outbox() == before


def order_line_sku(order_id: int, client) -> str:
    return client.get(page(order_id)).context["order_lines"][0]["line"].sku


@pytest.mark.parametrize(
    ("button", "fields", "expected"),
    [
        pytest.param("_ship", {"tracking_number": ""}, "Tracking number: This field is required.", id="no-tracking"),
        pytest.param("_apply_discount", {"percent": "5", "amount": "5"}, "either a percent or an amount", id="both"),
        pytest.param("_confirm", {"expected_version": "x"}, "Enter a whole number.", id="bad-version"),
    ],
)
def test_incomplete_input_is_refused_before_any_service_runs(client, make_order, button, fields, expected):
    log_in(client, MANAGE_ORDERS)
    placed = make_order()
    before = outbox()
    response = client.post(page(placed.order_id), {button: "", "expected_version": 1, **fields})
    assert expected in messages_of(response)[0]
    assert outbox() == before


def test_the_order_fields_never_save(client, make_order):
    log_in(client, superuser=True)
    placed = make_order()
    before = outbox()
    response = client.post(page(placed.order_id), {"_save": "Save", "status": "DELIVERED", "total": "0"})
    assert "only through the commands on its page" in messages_of(response)[0]
    assert outbox() == before


def test_the_page_offers_only_the_commands_the_status_allows(client, make_order):
    log_in(client, MANAGE_ORDERS)
    placed = make_order()
    buttons = {command.button for command, _ in client.get(page(placed.order_id)).context["order_commands"]}
    assert buttons == {"_confirm", "_cancel", "_add_line", "_apply_discount"}
    order_confirm(order_id=placed.order_id)
    buttons = {command.button for command, _ in client.get(page(placed.order_id)).context["order_commands"]}
    assert buttons == {"_ship", "_cancel"}
    content = client.get(page(placed.order_id)).content.decode()
    assert 'name="_ship" id="order-ship"' in content
    assert '<label for="id_ship_tracking_number">Tracking number:</label>' in content
    assert 'name="expected_version" value="2"' in content


def test_placing_an_order_calls_order_place_as_the_staff_member(client, customer, make_product):
    staff = log_in(client, MANAGE_ORDERS)
    tea, cake = make_product(price=450), make_product(price=300)
    form = client.get("/admin/orders_write/order/add/")
    key = form.context["form"]["idempotency_key"].value()
    data = {
        "customer": str(customer),
        "idempotency_key": key,
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-0-sku": tea,
        "lines-0-quantity": "2",
        "lines-1-sku": cake,
        "lines-1-quantity": "1",
        "_place_order": "Place order",
    }
    response = client.post("/admin/orders_write/order/add/", data)
    assert response.status_code == 302
    assert outbox()[-1] == ("OrderPlaced", actor(staff))
    assert client.post("/admin/orders_write/order/add/", data).url == response.url  # a double submit: same order
    assert order_count() == 1
    order_page = client.get(response.url)
    assert [row["line"].quantity for row in order_page.context["order_lines"]] == [2, 1]


def test_a_refused_placement_shows_each_problem_beside_its_input(client, customer, make_product):
    log_in(client, MANAGE_ORDERS)
    sku = make_product()
    base = {"idempotency_key": "k-1", "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0"}
    unknown = client.post(
        "/admin/orders_write/order/add/",
        {**base, "customer": "nobody@example.com", "lines-0-sku": sku, "lines-0-quantity": "1"},
    )
    assert unknown.context["form"].errors["customer"] == ["No customer has this number or email address."]
    refused = client.post(
        "/admin/orders_write/order/add/",
        {
            **base,
            "customer": str(customer),
            "lines-0-sku": sku,
            "lines-0-quantity": "1",
            "lines-1-sku": "NO-SUCH",
            "lines-1-quantity": "1",
        },
    )
    assert refused.status_code == 200
    assert "An order may only contain known, active products" in refused.content.decode()
    assert refused.context["formset"].forms[1].errors["sku"] == ["unknown product"]
    assert order_count() == 0


def test_placing_finds_the_customer_by_email(client, make_product):
    log_in(client, MANAGE_ORDERS)
    customer_register(name="Mary", email="mary@example.com")
    sku = make_product()
    data = {
        "customer": "Mary@Example.com",
        "idempotency_key": "k-2",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-sku": sku,
        "lines-0-quantity": "4",
    }
    assert client.post("/admin/orders_write/order/add/", data).status_code == 302
    assert order_count() == 1


def test_staff_with_only_the_catalog_right_cannot_see_or_change_orders(client, make_order):
    log_in(client, MANAGE_CATALOG)
    placed = make_order()
    before = outbox()
    assert client.get("/admin/orders_write/order/").status_code == 403
    assert client.get(page(placed.order_id)).status_code == 403
    assert client.get("/admin/orders_write/order/add/").status_code == 403
    assert client.post(page(placed.order_id), {"_confirm": "", "expected_version": 1}).status_code == 403
    assert outbox() == before
    assert client.get("/admin/orders_write/product/add/").status_code == 200


def test_staff_who_may_only_view_orders_get_no_commands(client, make_order):
    log_in(client, "orders_write.view_order")
    placed = make_order()
    before = outbox()
    listing = client.get("/admin/orders_write/order/")
    assert listing.status_code == 200 and listing.context["action_form"] is None
    assert "place-order-link" not in listing.content.decode()
    order_page = client.get(page(placed.order_id))
    assert order_page.status_code == 200 and order_page.context["order_commands"] == []
    assert 'name="_confirm"' not in order_page.content.decode()
    assert client.post(page(placed.order_id), {"_confirm": "", "expected_version": 1}).status_code == 403
    response = client.post("/admin/orders_write/order/", {"action": "confirm_orders", "_selected_action": [1]})
    assert response.status_code == 200  # not an action they have: nothing runs
    assert outbox() == before


def test_an_order_placed_elsewhere_shows_its_events(client, customer, sku):
    log_in(client, MANAGE_ORDERS)
    placed = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    order_confirm(order_id=placed.order_id)
    events = list(client.get(page(placed.order_id)).context["order_events"])
    assert [(e["aggregate_version"], e["event_type"]) for e in events] == [(1, "OrderPlaced"), (2, "OrderConfirmed")]
