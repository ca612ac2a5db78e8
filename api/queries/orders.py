"""Order and customer reads: detail, filtered list, a customer's recent orders, history.

Responses are the selectors' plain dicts, rendered as they are: no per-row serializer work on
the hot path. The serializers below only document the shapes (the schema tests and the
schemathesis run hold the responses to them).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.base import QueryApi, ReadParams
from api.permissions import READ_ORDERS, any_of
from api.schema import QUERY_HEADERS, errors
from config.limits import MAX_BIGINT, MAX_PAGE_SIZE, MAX_VERSION
from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, sees_customer_contacts
from events import OrderStatus
from orders_read import queries
from orders_read.models import CustomerStats, OrderLineView, OrderSummary
from projections.history import order_as_of, order_history

ORDER_TABLES = (OrderSummary, OrderLineView)


class OrderStateOutput(serializers.Serializer):
    """What an order is: the fields both the read table and a replay of the events give."""

    order_id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    status = serializers.ChoiceField(choices=[status.value for status in OrderStatus])
    currency = serializers.CharField(help_text="ISO 4217; every amount is in its minor units.")
    subtotal = serializers.IntegerField()
    discount = serializers.IntegerField()
    total = serializers.IntegerField()
    item_count = serializers.IntegerField()
    version = serializers.IntegerField()
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderOutput(OrderStateOutput):
    line_count = serializers.IntegerField()
    last_item = serializers.CharField(help_text="Product name of the most recently added line.")
    tracking_number = serializers.CharField(allow_blank=True)


class LineOutput(serializers.Serializer):
    sku = serializers.CharField()
    product_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField()
    line_total = serializers.IntegerField()


class OrderDetailOutput(OrderOutput):
    lines = LineOutput(many=True)


class OrderPage(serializers.Serializer):
    results = OrderOutput(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last.")


class ReadOrdersApi(QueryApi):
    permission_classes = [any_of(*READ_ORDERS)]
    reads = ORDER_TABLES


def _documented(summary: str, description: str, response, params=ReadParams, *statuses: int):
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[params, *QUERY_HEADERS],
        responses={200: response, **errors(400, 503, *statuses)},
        tags=["order queries"],
    )


class OrderDetailApi(ReadOrdersApi):
    @_documented(
        "One order with its lines",
        "An order as the read side holds it: its status, customer, amounts in minor units of `currency`, and its "
        "lines. The `ETag` header is the order's version, to send back as `If-Match` with a command. An order "
        "that does not exist, or that the read side does not show yet (pass `min_position`), is a 404 "
        "`not_found`.",
        OrderDetailOutput,
        ReadParams,
        404,
    )
    def get(self, request, order_id: int):
        order = queries.order_detail(order_id=order_id) if order_id <= MAX_BIGINT else None
        if order is None:
            raise NotFound(f"order {order_id} does not exist (or is not projected yet)")
        return Response(order, headers={"ETag": f'"{order["version"]}"'})


class OrderListParams(ReadParams):
    customer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    status = serializers.ChoiceField(required=False, choices=[status.value for status in OrderStatus])
    placed_after = serializers.DateTimeField(required=False, help_text="Inclusive; ISO 8601 (UTC if no offset).")
    placed_before = serializers.DateTimeField(required=False, help_text="Exclusive; ISO 8601 (UTC if no offset).")
    cursor = serializers.CharField(required=False, max_length=200, help_text="From the previous page's `next`.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=50)

    def validate_cursor(self, value: str) -> str:
        try:
            queries.decode_cursor(value)
        except queries.InvalidCursor:
            raise serializers.ValidationError("not a cursor this API gave out") from None
        return value


class OrderListApi(ReadOrdersApi):
    params_class = OrderListParams

    @_documented(
        "Orders, newest first, filtered and cursor-paginated",
        f"Orders, newest first, optionally only one `customer`'s, in one `status`, or placed in a "
        f"`placed_after`/`placed_before` range; `limit` (at most {MAX_PAGE_SIZE}) at a time. Follow `next` for "
        "the next page (null on the last); a `cursor` the API did not give out is a 400 `validation_error`.",
        OrderPage,
        OrderListParams,
    )
    def get(self, request):
        params = self.params
        page, cursor = queries.order_list(
            customer_id=params.get("customer"),
            status=params.get("status"),
            placed_after=params.get("placed_after"),
            placed_before=params.get("placed_before"),
            cursor=params.get("cursor"),
            limit=params["limit"],
        )
        next_url = None
        if cursor is not None:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", cursor)
        return Response({"results": page, "next": next_url})


class CustomerOrdersParams(ReadParams):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=20)


class CustomerOrdersApi(ReadOrdersApi):
    params_class = CustomerOrdersParams

    @_documented(
        "A customer's most recent orders, newest first",
        f"A customer's `limit` (at most {MAX_PAGE_SIZE}) most recent orders, newest first, on one page (`next` "
        "is always null; the order list with `customer` pages further). A customer without orders, or unknown, "
        "has an empty list.",
        OrderPage,
        CustomerOrdersParams,
        404,
    )
    def get(self, request, customer_id: int):
        if customer_id > MAX_BIGINT:
            return Response({"results": [], "next": None})
        orders = queries.customer_recent_orders(customer_id=customer_id, limit=self.params["limit"])
        return Response({"results": orders, "next": None})


class CustomerOutput(serializers.Serializer):
    customer_id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField(
        allow_null=True, help_text="null unless you hold manage_orders or manage_catalog (reports alone do not show it)"
    )
    is_active = serializers.BooleanField()
    order_count = serializers.IntegerField()
    cancelled_count = serializers.IntegerField()
    lifetime_value = serializers.IntegerField(help_text="Sum of the totals of non-cancelled orders.")
    last_order_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class CustomerDetailApi(ReadOrdersApi):
    reads = (CustomerStats,)

    @_documented(
        "One customer with order statistics",
        "A customer with order statistics: orders placed, orders cancelled, lifetime value (the totals of "
        "orders not cancelled) and the last order's time. `email` is null unless you also hold "
        f"`{MANAGE_ORDERS}` or `{MANAGE_CATALOG}` (contact data). A customer that does not exist, or that the "
        "read side does not show yet, is a 404 `not_found`.",
        CustomerOutput,
        ReadParams,
        404,
    )
    def get(self, request, customer_id: int):
        customer = queries.customer_detail(customer_id=customer_id) if customer_id <= MAX_BIGINT else None
        if customer is None:
            raise NotFound(f"customer {customer_id} does not exist (or is not projected yet)")
        if not sees_customer_contacts(request.user):
            customer["email"] = None
        return Response(customer)


class HistoryParams(ReadParams):
    as_of = serializers.DateTimeField(
        required=False, help_text="ISO 8601: show the order as it stood then, and the events up to then."
    )
    after_version = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_VERSION, help_text="The cursor: events above this version."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=MAX_PAGE_SIZE)


class EventOutput(serializers.Serializer):
    position = serializers.IntegerField()
    version = serializers.IntegerField()
    event_type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField()
    correlation_id = serializers.UUIDField()
    payload = serializers.DictField()


class ReplayedOrderOutput(OrderStateOutput):
    lines = LineOutput(many=True)


class HistoryOutput(serializers.Serializer):
    order_id = serializers.IntegerField()
    as_of = serializers.DateTimeField(allow_null=True)
    order = ReplayedOrderOutput(help_text="The order replayed from its events (as of `as_of` when given).")
    events = EventOutput(many=True, help_text="One page, in version order.")
    next = serializers.URLField(allow_null=True, help_text="The next page (`after_version`), or null on the last.")


class OrderHistoryApi(ReadOrdersApi):
    """Read from the outbox itself, the audit log: always current, so nothing to wait for."""

    reads = ()
    params_class = HistoryParams

    @_documented(
        "An order's events, a page at a time, and the order as it was at any moment",
        f"An order's events from the audit log in version order, `limit` (at most {MAX_PAGE_SIZE}) at a time: "
        "follow `next` (`after_version` is the cursor), null on the last page. Beside them, the order replayed "
        "from its events. With `as_of`, the order as it stood at that moment and only the events up to it. An "
        "order not placed (by `as_of`) is a 404 `not_found`.",
        HistoryOutput,
        HistoryParams,
        404,
    )
    def get(self, request, order_id: int):
        as_of, after, limit = self.params.get("as_of"), self.params.get("after_version", 0), self.params["limit"]
        order = order_as_of(order_id=order_id, at=as_of or timezone.now()) if order_id <= MAX_BIGINT else None
        if order is None:
            when = "" if as_of is None else f" at {as_of.isoformat()}"
            raise NotFound(f"order {order_id} had not been placed{when}")
        # Pages by version (ADR 0023): one more row than the page says whether another follows.
        events = order_history(order_id=order_id, until=as_of, after_version=after, limit=limit + 1)
        next_url = None
        if len(events) > limit:
            events = events[:limit]
            next_url = replace_query_param(request.build_absolute_uri(), "after_version", events[-1]["version"])
        return Response({"order_id": order_id, "as_of": as_of, "order": order, "events": events, "next": next_url})
