"""What every write-side admin shares: the services are its only door, and nothing is deleted.

Django's admin saves a model with ``obj.save()`` inside a transaction of its own. Here
``save_model`` calls a domain service instead, and the service must own the outermost
(durable) transaction, so the admin's form handling runs without one. A domain error raised
by the service (a stale version, a broken rule, input the service refuses) is shown on the
same form with what the staff member typed still in it, and nothing is written.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from config.admin_lookups import AllowListedLookups
from config.money import money
from orders_write.errors import DomainError, VersionConflict


def holds(request: HttpRequest, *rights: str) -> bool:
    """Say whether the user holds any of ``rights`` (superusers hold every right)."""
    return any(request.user.has_perm(right) for right in rights)


def minor_units_help() -> str:
    """Explain to staff that amounts are typed as whole minor units of the shop currency."""
    currency = settings.SHOP_CURRENCY
    return f"In minor units of {currency} (a whole number): 1250 means {money(1250, currency)}."


def describe(error: DomainError, subject: str) -> str:
    """Return a sentence for staff saying what was refused and what to do about it."""
    if isinstance(error, VersionConflict):
        return (
            f"Someone changed this {subject} after you opened it: you saw version "
            f"{error.details['expected_version']}, it is now at version {error.current_version}. "
            "Nothing was saved. Reload the page, check the current values and try again."
        )
    message = error.message[:1].upper() + error.message[1:]
    return f"{message}. Nothing was saved." if not message.endswith(".") else f"{message} Nothing was saved."


def add_domain_error(form: forms.BaseForm, error: DomainError, subject: str) -> None:
    """Put a refused command's message on ``form``, and each per-field detail under its field."""
    form.add_error(None, describe(error, subject))
    for field, problems in error.details.items():
        if field in form.fields and not form.fields[field].widget.is_hidden and isinstance(problems, list):
            form.add_error(field, [str(problem) for problem in problems])


def form_problems(form: forms.BaseForm) -> str:
    """Return a form's errors as one sentence for a message, each after its field's label."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


class CommandRefused(Exception):
    """A service refused what ``save_model`` asked; the admin shows the form again with why."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class CommandModelForm(forms.ModelForm):
    """A model form used only to check input for a service, and to show the service's refusal.

    Its field names are the service's argument names, so a refusal's per-field details land
    beside the inputs they are about.
    """

    subject = "object"
    refused_command: DomainError | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refused_command is not None:
            add_domain_error(self, self.refused_command, self.subject)
        return cleaned


class VersionedModelForm(CommandModelForm):
    """A command form that, when changing an object, carries the version the staff member saw."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        # A hidden field's error would be invisible on the page, so say it at the top instead.
        malformed = self._errors.pop("expected_version", None)
        if malformed or cleaned.get("expected_version") is None:
            self.add_error(None, "The page did not say which version you saw. Reload it and try again.")
        return cleaned


class CommandModelAdmin(AllowListedLookups, admin.ModelAdmin):
    """Base of the write-side admins: changes go through ``save_model`` → a service; no deletes."""

    show_facets = admin.ShowFacets.NEVER
    list_editable = ()

    def submit(self, request: HttpRequest, obj: Any, form: forms.BaseForm, change: bool) -> None:
        """Call the domain service(s) the validated ``form`` asks for."""
        raise PermissionDenied(f"{self.opts.verbose_name_plural} change only through their own pages")

    def save_model(self, request: HttpRequest, obj: Any, form: forms.BaseForm, change: bool) -> None:
        try:
            self.submit(request, obj, form, change)
        except DomainError as error:
            raise CommandRefused(error) from error

    def save_related(self, request: HttpRequest, form: forms.BaseForm, formsets: Any, change: bool) -> None:
        """Save nothing: the service has written everything the command changes."""

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django's form handling (``_changeform_view``) without the transaction Django wraps it
        # in: the service's own durable transaction must be the outermost one.
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except CommandRefused as refused:
            # Validate the same input again, this time with the refusal as a form error: the
            # page comes back with the staff member's input and why it was refused.
            request.refused_command = refused.error
            return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        refused = getattr(request, "refused_command", None)
        if refused is None:
            return form
        return type(form.__name__, (form,), {"refused_command": refused})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied(f"{self.opts.verbose_name_plural} are never deleted")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        raise PermissionDenied(f"{self.opts.verbose_name_plural} are never deleted")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def run_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    commands: Iterable[tuple[str, Callable[[], Any]]],
    *,
    done: str,
    subject: str,
) -> None:
    """Run one command per ``(label, command)`` and report each failure and the successes."""
    succeeded = []
    for label, run in commands:
        try:
            run()
        except DomainError as error:
            model_admin.message_user(request, f"{label}: {describe(error, subject)}", messages.ERROR)
        else:
            succeeded.append(label)
    if succeeded:
        model_admin.message_user(request, f"{done}: {', '.join(succeeded)}.", messages.SUCCESS)
