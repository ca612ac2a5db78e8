"""Order commands: place, change lines and discount, move through the statuses.

Serializers check shape and types only; every business rule stays in the domain services,
which re-validate everything (the admin and the shell use the same doors).
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status

from api.base import CommandApi, VersionedInput
from api.inputs import StrictInput
from api.permissions import any_of
from api.schema import COMMAND_HEADERS, IF_MATCH, errors
from config.limits import MAX_BIGINT, MAX_DISCOUNT_AMOUNT, MAX_DISCOUNT_PERCENT, MAX_LINES, MAX_QUANTITY
from config.rights import MANAGE_ORDERS
from orders_write import services
from orders_write.services import CommandResult
from orders_write.services.limits import (
    CANCEL_REASON_MAX_LENGTH,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    SKU_MAX_LENGTH,
    TRACKING_NUMBER_MAX_LENGTH,
)


class OrderCommandOutput(serializers.Serializer):
    order_id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The order's version after the command.")
    position = serializers.IntegerField(help_text="Outbox position of its last event; pass as `min_position`.")


class OrderCommandApi(CommandApi):
    permission_classes = [any_of(MANAGE_ORDERS)]

    def order_response(self, result: CommandResult, *, status: int = 200):
        location = reverse("api:order-detail", kwargs={"order_id": result.order_id})
        return self.respond(result, {"order_id": result.order_id}, location=location, status=status)

    def run(self, request, order_id: int, service, input_class: type[serializers.Serializer]):
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        arguments = dict(data.validated_data)
        expected_version = arguments.pop("expected_version", None)
        result = self.execute_versioned(
            request, service, order_id=order_id, expected_version=expected_version, **arguments
        )
        return self.order_response(result)


def _documented(summary: str, description: str, request, *statuses: int, parameters=()):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={
            200: OrderCommandOutput,
            **errors(400, 404, 409, 412, 413, 422, *statuses, codes={409: ("version_conflict", "invalid_transition")}),
        },
        parameters=[IF_MATCH, *COMMAND_HEADERS, *parameters],
        tags=["order commands"],
    )


class LineInput(StrictInput):
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderPlaceApi(OrderCommandApi):
    class InputSerializer(StrictInput):
        customer_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
        lines = LineInput(many=True, min_length=1, max_length=MAX_LINES)

    @extend_schema(
        summary="Place an order",
        description=f"Places an order for an active customer: 1 to {MAX_LINES} lines, one per sku, each "
        f"quantity 1 to {MAX_QUANTITY}, only known and active products. Each line takes the product's current "
        "price, which stays fixed on the line. Answers 201 with the new order's `order_id`, `version` (1) and "
        "`position`, its `Location` and `ETag`.\n\n"
        "Send an `Idempotency-Key` to retry safely: the same key with the same body answers the first "
        "placement again instead of placing a second order (keys are per user, remembered for 7 days by "
        "default); the same key with another body is a 409 `idempotency_key_reused`. An unknown or inactive "
        "customer or product is a 422 `invariant_violated`; the same sku on two lines is a 400 "
        "`validation_error`.",
        request=InputSerializer,
        responses={201: OrderCommandOutput, **errors(400, 409, 413, 422, codes={409: ("idempotency_key_reused",)})},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": r"\S"},
                OpenApiParameter.HEADER,
                description="Up to 255 characters. A retry with the same key and body returns the original "
                "response instead of placing a second order; the same key with another body is a 409.",
            ),
            *COMMAND_HEADERS,
        ],
        examples=[
            OpenApiExample(
                "two lines", value={"customer_id": 1, "lines": [{"sku": "TEA-1", "quantity": 2}]}, request_only=True
            )
        ],
        tags=["order commands"],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = [
            services.LineInput(sku=line["sku"], quantity=line["quantity"]) for line in data.validated_data["lines"]
        ]
        result = self.execute(
            request,
            services.order_place,
            customer_id=data.validated_data["customer_id"],
            lines=lines,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return self.order_response(result, status=status.HTTP_201_CREATED)


class OrderLineAddApi(OrderCommandApi):
    class InputSerializer(LineInput, VersionedInput):
        pass

    @_documented(
        "Add a line (PENDING orders only)",
        "Adds `quantity` of a product to a PENDING order at the product's current price; the totals (and a "
        "percentage discount) follow. One line per sku: to change a quantity, remove the line and add it again. "
        f"An unknown or retired product, a sku already on the order, or line {MAX_LINES + 1} is a 422 "
        "`invariant_violated`; an order in another status is a 409 `invalid_transition`.",
        InputSerializer,
    )
    def post(self, request, order_id: int):
        return self.run(request, order_id, services.order_line_add, self.InputSerializer)


class OrderLineRemoveApi(OrderCommandApi):
    @_documented(
        "Remove a line (PENDING orders; not the last one)",
        "Removes the line for `sku` from a PENDING order; the totals (and a percentage discount) follow. The last "
        "line cannot go: that is a 422 `invariant_violated` (cancel the order instead). A sku not on the order is "
        "a 404 `not_found`; an order in another status is a 409 `invalid_transition`. Having no body, this "
        "operation takes `expected_version` in the query string.",
        None,
        parameters=[VersionedInput],
    )
    def delete(self, request, order_id: int, sku: str):
        data = VersionedInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        result = self.execute_versioned(
            request,
            services.order_line_remove,
            order_id=order_id,
            sku=sku,
            expected_version=data.validated_data.get("expected_version"),
        )
        return self.order_response(result)


class OrderDiscountApi(OrderCommandApi):
    class InputSerializer(VersionedInput):
        percent = serializers.IntegerField(required=False, min_value=0, max_value=MAX_DISCOUNT_PERCENT)
        amount = serializers.IntegerField(required=False, min_value=0, max_value=MAX_DISCOUNT_AMOUNT)

        def validate(self, attrs):
            if ("percent" in attrs) == ("amount" in attrs):
                raise serializers.ValidationError({"percent": ["give exactly one of percent and amount"]})
            return attrs

    @_documented(
        "Set the discount: a whole percent or an amount in minor units",
        "Sets the discount of a PENDING order, replacing any earlier one: exactly one of `percent` (a whole "
        f"percent, 0 to {MAX_DISCOUNT_PERCENT}, recomputed when lines change) and `amount` (minor units, "
        "fixed); 0 removes the discount. An amount above the subtotal is a 422 `invariant_violated`; an order "
        "in another status is a 409 `invalid_transition`.",
        InputSerializer,
    )
    def post(self, request, order_id: int):
        return self.run(request, order_id, services.order_discount_apply, self.InputSerializer)


class OrderConfirmApi(OrderCommandApi):
    @_documented(
        "Confirm a PENDING order",
        "Confirms a PENDING order: from now on its lines and discount no longer change. An order in another "
        "status is a 409 `invalid_transition`.",
        VersionedInput,
    )
    def post(self, request, order_id: int):
        return self.run(request, order_id, services.order_confirm, VersionedInput)


class OrderShipApi(OrderCommandApi):
    class InputSerializer(VersionedInput):
        tracking_number = serializers.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH)

    @_documented(
        "Ship a CONFIRMED order",
        "Ships a CONFIRMED order with the carrier's `tracking_number`, shown on the order from then on. An order "
        "in another status is a 409 `invalid_transition`.",
        InputSerializer,
    )
    def post(self, request, order_id: int):
        return self.run(request, order_id, services.order_ship, self.InputSerializer)


class OrderDeliverApi(OrderCommandApi):
    @_documented(
        "Mark a SHIPPED order delivered",
        "Marks a SHIPPED order delivered, its final status. An order in another status is a 409 `invalid_transition`.",
        VersionedInput,
    )
    def post(self, request, order_id: int):
        return self.run(request, order_id, services.order_deliver, VersionedInput)


class OrderCancelApi(OrderCommandApi):
    class InputSerializer(VersionedInput):
        reason = serializers.CharField(max_length=CANCEL_REASON_MAX_LENGTH)

    @_documented(
        "Cancel an order that has not shipped",
        "Cancels a PENDING or CONFIRMED order, with a `reason` kept in its history. A shipped, delivered or "
        "already cancelled order is a 409 `invalid_transition`.",
        InputSerializer,
    )
    def post(self, request, order_id: int):
        return self.run(request, order_id, services.order_cancel, self.InputSerializer)
