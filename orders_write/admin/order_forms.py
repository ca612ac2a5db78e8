"""The forms of the order pages: one per command, each carrying the version the staff member saw.

They check the shape of the input only (required, lengths, ranges); the rules (legal status
moves, known products, totals) are the services' to enforce, so there is one place that does.
"""

from typing import Any

from django import forms

from config.limits import MAX_BIGINT, MAX_DISCOUNT_PERCENT, MAX_LINES, MAX_QUANTITY, MAX_VERSION
from orders_write.admin.base import minor_units_help
from orders_write.models import Customer
from orders_write.models.catalog import SKU_MAX_LENGTH
from orders_write.models.orders import CANCEL_REASON_MAX_LENGTH, TRACKING_NUMBER_MAX_LENGTH
from orders_write.services.order_placement import IDEMPOTENCY_KEY_MAX_LENGTH


class VersionedForm(forms.Form):
    """A command on one order, as of the version shown on the page."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_VERSION)


class ShipForm(VersionedForm):
    tracking_number = forms.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH, label="Tracking number")


class CancelForm(VersionedForm):
    reason = forms.CharField(
        max_length=CANCEL_REASON_MAX_LENGTH,
        label="Reason for cancelling",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


class AddLineForm(VersionedForm):
    sku = forms.CharField(max_length=SKU_MAX_LENGTH, label="SKU")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1, label="Quantity")


class RemoveLineForm(VersionedForm):
    sku = forms.CharField(max_length=SKU_MAX_LENGTH, widget=forms.HiddenInput)


class DiscountForm(VersionedForm):
    percent = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_DISCOUNT_PERCENT,
        label="Percent",
        help_text=f"0 to {MAX_DISCOUNT_PERCENT}; 0 removes the discount.",
    )
    amount = forms.IntegerField(required=False, min_value=0, label="or amount")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = minor_units_help()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if ("percent" in self.errors) or ("amount" in self.errors):
            return cleaned
        if (cleaned.get("percent") is None) == (cleaned.get("amount") is None):
            raise forms.ValidationError("Give either a percent or an amount, not both.")
        return cleaned


class PlaceOrderForm(forms.Form):
    customer = forms.CharField(
        max_length=254,
        label="Customer",
        help_text="The customer's number or email address.",
    )
    # A double-clicked "Place order" sends the same key twice: the second returns the first order.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)

    def clean_customer(self) -> int:
        """Return the customer's id, looked up by number or by email."""
        value = self.cleaned_data["customer"].strip()
        if value.isdigit() and int(value) <= MAX_BIGINT:
            customer_id = Customer.objects.filter(pk=int(value)).values_list("pk", flat=True).first()
        else:
            customer_id = Customer.objects.filter(email=value.lower()).values_list("pk", flat=True).first()
        if customer_id is None:
            raise forms.ValidationError("No customer has this number or email address.")
        return customer_id


class LineInputForm(forms.Form):
    sku = forms.CharField(max_length=SKU_MAX_LENGTH, label="SKU")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, label="Quantity")


LineInputFormSet = forms.formset_factory(
    LineInputForm, extra=4, min_num=1, validate_min=True, max_num=MAX_LINES, validate_max=True
)


class ShipOrdersForm(forms.Form):
    """The ship action's page: a tracking number for each selected order, and the version seen."""

    def __init__(self, orders: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders = orders
        for order in orders:
            self.fields[f"tracking_number_{order.pk}"] = forms.CharField(
                max_length=TRACKING_NUMBER_MAX_LENGTH, label=f"Tracking number for order {order.pk}"
            )
            self.fields[f"version_{order.pk}"] = forms.IntegerField(widget=forms.HiddenInput, initial=order.version)

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [(order, self[f"tracking_number_{order.pk}"], self[f"version_{order.pk}"]) for order in self.orders]


class CancelOrdersForm(forms.Form):
    """The cancel action's page: one reason for every selected order, and the versions seen."""

    reason = forms.CharField(
        max_length=CANCEL_REASON_MAX_LENGTH,
        label="Reason for cancelling",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, orders: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders = orders
        for order in orders:
            self.fields[f"version_{order.pk}"] = forms.IntegerField(widget=forms.HiddenInput, initial=order.version)

    def rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(order, self[f"version_{order.pk}"]) for order in self.orders]
