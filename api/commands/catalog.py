"""Customer and product commands: register, rename, deactivate; add, reprice, retire.

A PATCH carries exactly one change, because each change is its own command with its own event
and version: two changes in one request could half-succeed, which a PATCH must never do.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status

from api.base import CommandApi, VersionedInput
from api.inputs import StrictInput
from api.permissions import any_of
from api.schema import COMMAND_HEADERS, IF_MATCH, errors
from config.limits import MAX_PRICE
from config.rights import MANAGE_CATALOG
from orders_write import services
from orders_write.services.limits import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, SKU_MAX_LENGTH


class CatalogCommandApi(CommandApi):
    permission_classes = [any_of(MANAGE_CATALOG)]


class CustomerCommandOutput(serializers.Serializer):
    customer_id = serializers.IntegerField()
    version = serializers.IntegerField()
    position = serializers.IntegerField()


class ProductCommandOutput(serializers.Serializer):
    sku = serializers.CharField()
    product_id = serializers.IntegerField()
    version = serializers.IntegerField()
    position = serializers.IntegerField()


def _one_change(attrs: dict, fields: tuple[str, ...]) -> dict:
    given = [field for field in fields if field in attrs]
    if len(given) != 1:
        raise serializers.ValidationError({fields[0]: [f"give exactly one of {', '.join(fields)}"]})
    return attrs


def _only_false(value: bool) -> bool:
    if value:
        raise serializers.ValidationError("only false is accepted: deactivation cannot be undone")
    return value


class CustomerRegisterApi(CatalogCommandApi):
    class InputSerializer(StrictInput):
        name = serializers.CharField(max_length=NAME_MAX_LENGTH)
        email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)

    @extend_schema(
        summary="Register a customer",
        description="Registers a customer with a `name` and an `email` no other customer has (a registered email "
        "is a 400 `validation_error` naming `email`). Answers 201 with `customer_id`, `version` and `position`, "
        "the customer's `Location` and `ETag`.",
        request=InputSerializer,
        responses={201: CustomerCommandOutput, **errors(400, 413)},
        parameters=COMMAND_HEADERS,
        tags=["catalogue commands"],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = self.execute(request, services.customer_register, **data.validated_data)
        return _customer_response(self, result, status.HTTP_201_CREATED)


class CustomerChangeApi(CatalogCommandApi):
    class InputSerializer(VersionedInput):
        name = serializers.CharField(required=False, max_length=NAME_MAX_LENGTH, help_text="Rename.")
        is_active = serializers.BooleanField(
            required=False, validators=[_only_false], help_text="`false` deactivates: no new orders."
        )

        def validate(self, attrs):
            return _one_change(attrs, ("name", "is_active"))

    @extend_schema(
        summary="Rename or deactivate a customer (one change per request)",
        description="Makes exactly one change, each its own event: `name` renames the customer; `is_active: false` "
        "deactivates them for good, so they can place no new orders (`true` is refused). Both or neither is a "
        "400 `validation_error`. Deactivating an inactive customer is a 422 `invariant_violated`; an unknown "
        "customer is a 404 `not_found`.",
        request=InputSerializer,
        responses={
            200: CustomerCommandOutput,
            **errors(400, 404, 409, 412, 413, 422, codes={409: ("version_conflict",)}),
        },
        parameters=[IF_MATCH, *COMMAND_HEADERS],
        tags=["catalogue commands"],
    )
    def patch(self, request, customer_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expected_version = data.validated_data.get("expected_version")
        if "name" in data.validated_data:
            service, extra = services.customer_rename, {"name": data.validated_data["name"]}
        else:
            service, extra = services.customer_deactivate, {}
        result = self.execute_versioned(
            request, service, customer_id=customer_id, expected_version=expected_version, **extra
        )
        return _customer_response(self, result, status.HTTP_200_OK)


def _customer_response(view: CommandApi, result, status_code: int):
    location = reverse("api:customer-detail", kwargs={"customer_id": result.aggregate_id})
    return view.respond(result, {"customer_id": result.aggregate_id}, location=location, status=status_code)


class ProductAddApi(CatalogCommandApi):
    class InputSerializer(StrictInput):
        sku = serializers.CharField(max_length=SKU_MAX_LENGTH, help_text="Letters, digits, '.', '_' and '-'.")
        name = serializers.CharField(max_length=NAME_MAX_LENGTH)
        price = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, help_text="Minor units.")

    @extend_schema(
        summary="Add a product to the catalogue",
        description="Adds a product with a new `sku` (a taken one is a 400 `validation_error` naming `sku`), a "
        "`name` and a `price` in minor units; orders can take it at once. Answers 201 with `sku`, `product_id`, "
        "`version` and `position`, and `ETag`; there is no `Location`, as products have no read resource.",
        request=InputSerializer,
        responses={201: ProductCommandOutput, **errors(400, 413)},
        parameters=COMMAND_HEADERS,
        tags=["catalogue commands"],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = self.execute(request, services.product_add, **data.validated_data)
        return _product_response(self, data.validated_data["sku"], result, status.HTTP_201_CREATED)


class ProductChangeApi(CatalogCommandApi):
    class InputSerializer(VersionedInput):
        price = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PRICE, help_text="Reprice.")
        is_active = serializers.BooleanField(
            required=False, validators=[_only_false], help_text="`false` retires the product."
        )

        def validate(self, attrs):
            return _one_change(attrs, ("price", "is_active"))

    @extend_schema(
        summary="Reprice or retire a product (one change per request)",
        description="Makes exactly one change, each its own event: `price` reprices the product for lines added "
        "from now on (lines already on orders keep their price); `is_active: false` retires it for good, so no "
        "order can take it (`true` is refused). Both or neither is a 400 `validation_error`. Retiring a retired "
        "product is a 422 `invariant_violated`; an unknown sku is a 404 `not_found`.",
        request=InputSerializer,
        responses={
            200: ProductCommandOutput,
            **errors(400, 404, 409, 412, 413, 422, codes={409: ("version_conflict",)}),
        },
        parameters=[IF_MATCH, *COMMAND_HEADERS],
        tags=["catalogue commands"],
    )
    def patch(self, request, sku: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expected_version = data.validated_data.get("expected_version")
        if "price" in data.validated_data:
            service, extra = services.product_reprice, {"price": data.validated_data["price"]}
        else:
            service, extra = services.product_retire, {}
        result = self.execute_versioned(request, service, sku=sku, expected_version=expected_version, **extra)
        return _product_response(self, sku, result, status.HTTP_200_OK)


def _product_response(view: CommandApi, sku: str, result, status_code: int):
    # Products have no read resource of their own yet, so there is no Location to give.
    return view.respond(
        result, {"sku": sku.strip(), "product_id": result.aggregate_id}, location=None, status=status_code
    )
