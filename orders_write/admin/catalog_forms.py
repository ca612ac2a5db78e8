"""The customer and product forms: what staff may type, checked before any service is called.

They list only what a service can change. A customer's email and a product's sku and name
have no command that changes them, so the admins show those read-only once the object exists.
"""

from django import forms

from orders_write.admin.base import VersionedModelForm, minor_units_help
from orders_write.models import Customer, Product


class CustomerForm(VersionedModelForm):
    subject = "customer"

    deactivate = forms.BooleanField(
        required=False,
        label="Deactivate this customer",
        help_text="They can place no new orders; the orders they have are kept. This cannot be undone here.",
    )

    class Meta:
        model = Customer
        fields = ["name", "email"]


class ProductForm(VersionedModelForm):
    subject = "product"

    retire = forms.BooleanField(
        required=False,
        label="Retire this product",
        help_text="It can no longer be added to orders; lines already on orders keep it.",
    )

    class Meta:
        model = Product
        fields = ["sku", "name", "price"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "price" in self.fields:  # absent when the admin shows it read-only
            self.fields["price"] = forms.IntegerField(min_value=1, label="Price", help_text=minor_units_help())
