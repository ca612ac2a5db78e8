"""No admin path saves a write-side model directly: every registered admin is tried, door by door.

For each ``ModelAdmin`` registered for an ``orders_write`` model (whoever registered it), each
way Django's admin can write (save_model with a valid form, delete_model, delete_queryset,
the bulk delete action, list_editable, the add and delete pages) must either go through a
domain service, which shows as a new outbox event, or be refused with the row unchanged.
"""

import pytest
from django.contrib import admin
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse

from orders_write.models import Customer, Order, Product
from orders_write.services import LineInput, order_place
from tests.admin.test_write_admin_support import log_in, outbox, staff_user

pytestmark = pytest.mark.django_db

WRITE_ADMINS = sorted(
    (
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "orders_write"
    ),
    key=lambda pair: pair[0].__name__,
)
each_write_admin = pytest.mark.parametrize(
    ("model", "model_admin"), WRITE_ADMINS, ids=[model.__name__ for model, _ in WRITE_ADMINS]
)
# A change each form accepts, so that saving has something to do.
CHANGES = {Customer: {"name": "Renamed In Admin"}, Product: {"price": 999}}
# Models the admin may create; each one's add page calls a service (tested end to end elsewhere).
CREATED_BY_COMMAND = {Customer, Product, Order}


@pytest.fixture
def every_kind_of_row(customer, sku):
    """One row of every write-side table: customer, product, order, line, outbox event, idempotency record."""
    order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)], idempotency_key="guard-test")


@pytest.fixture
def superuser_request():
    request = RequestFactory().post("/")
    request.user = staff_user(superuser=True)
    request._messages = CookieStorage(request)
    return request


def row(model, pk) -> dict:
    return model._default_manager.filter(pk=pk).values().get()


def first_row(model):
    return model._default_manager.order_by("pk").first()


def test_the_write_models_staff_need_are_registered():
    assert {Customer, Product, Order} <= {model for model, _ in WRITE_ADMINS}


@each_write_admin
def test_save_model_goes_through_a_service_or_is_refused(every_kind_of_row, superuser_request, model, model_admin):
    obj = first_row(model)
    before_row, before_events = row(model, obj.pk), outbox()
    form_class = model_admin.get_form(superuser_request, obj, change=True)
    shown = form_class(instance=obj)
    data = {name: shown[name].value() for name in shown.fields if shown[name].value() is not None}
    form = form_class({**data, **CHANGES.get(model, {})}, instance=obj)
    assert form.is_valid(), form.errors
    changed = model_admin.save_form(superuser_request, form, change=True)
    try:
        model_admin.save_model(superuser_request, changed, form, True)
    except Exception:  # refused (PermissionDenied, WriteOutsideServiceError, ...): nothing may have changed
        assert model not in CHANGES, "customers and products are changed through their services"
        assert row(model, obj.pk) == before_row
        assert outbox() == before_events
    else:  # accepted: only a service may have done it, and a service leaves an event
        assert len(outbox()) == len(before_events) + 1


@each_write_admin
def test_delete_model_and_delete_queryset_are_refused(every_kind_of_row, superuser_request, model, model_admin):
    obj = first_row(model)
    before_events = outbox()
    with pytest.raises((PermissionDenied, RuntimeError, ValueError)):
        model_admin.delete_model(superuser_request, obj)
    with pytest.raises((PermissionDenied, RuntimeError, ValueError)):
        model_admin.delete_queryset(superuser_request, model._default_manager.filter(pk=obj.pk))
    assert model._default_manager.filter(pk=obj.pk).exists()
    assert outbox() == before_events


@each_write_admin
def test_nothing_offers_a_delete(every_kind_of_row, superuser_request, client, model, model_admin):
    obj = first_row(model)
    assert not model_admin.has_delete_permission(superuser_request, obj)
    assert "delete_selected" not in model_admin.get_actions(superuser_request)
    log_in(client, superuser=True)
    name = f"admin:orders_write_{model._meta.model_name}"
    assert client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    response = client.post(
        reverse(f"{name}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert model._default_manager.filter(pk=obj.pk).exists()


@each_write_admin
def test_the_list_edits_nothing(every_kind_of_row, client, model, model_admin):
    assert not model_admin.list_editable
    obj = first_row(model)
    before_row, before_events = row(model, obj.pk), outbox()
    log_in(client, superuser=True)
    fields = {f"form-0-{name}": value for name, value in model_to_dict(obj).items() if value is not None}
    data = {"_save": "Save", "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", **fields, "form-0-name": "Edited"}
    response = client.post(reverse(f"admin:orders_write_{model._meta.model_name}_changelist"), data)
    assert response.status_code in (200, 302, 403)
    assert row(model, obj.pk) == before_row
    assert outbox() == before_events


@each_write_admin
def test_only_models_created_by_a_command_can_be_added(
    every_kind_of_row, superuser_request, client, model, model_admin
):
    log_in(client, superuser=True)
    add_page = reverse(f"admin:orders_write_{model._meta.model_name}_add")
    if model not in CREATED_BY_COMMAND:
        assert not model_admin.has_add_permission(superuser_request)
        assert client.get(add_page).status_code == 403
        return
    before_count, before_events = model._default_manager.count(), outbox()
    assert client.get(add_page).status_code == 200
    response = client.post(add_page, {"_save": "Save"})  # an empty form: refused, nothing written
    assert response.status_code == 200
    assert model._default_manager.count() == before_count
    assert outbox() == before_events
