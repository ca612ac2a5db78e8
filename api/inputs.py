"""Strict input: a value the OpenAPI schema does not allow is a 400 naming its field (ADR 0023).

DRF's fields are lenient on purpose, and the schema they publish is not: a ``CharField`` turns
the JSON number ``0`` into ``"0"``, an ``IntegerField`` takes ``"5"``, ``"5.0"`` and ``" 5"``, a
``BooleanField`` takes ``"yes"`` and ``1``, and an empty query parameter (``?customer=``) is read
as no parameter at all. ``DateField`` and ``DateTimeField`` go through ``fromisoformat``, which
also takes ``20240101`` or ``2024-W01-1``. Every API input serializer derives from
``StrictInput``, which checks the raw value against the JSON type (a body) or the text form (a
query string) the schema states before DRF converts it; DRF's own rules (bounds, lengths,
choices) then run as before. ``ClosedInput`` also refuses a field it does not know, for inputs
where a misspelt field would otherwise change nothing without a word.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 date-time; the offset may be left out (UTC), as the parameters' help texts say.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


class StrictInput(serializers.Serializer):
    """A serializer of request input (a JSON body or a query string) that takes no liberties."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, QueryDict):
            errors = _query_errors(self.fields, data)
        elif isinstance(data, Mapping):
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if (problem := _json_type_error(field, data.get(name, _ABSENT)))
            }
        else:
            errors = {}
        if not errors:
            return super().to_internal_value(data)
        # Report every bad field at once: DRF's own checks still run on the others.
        rest = data.copy()
        for name in errors:
            rest.pop(name, None)
        try:
            super().to_internal_value(rest)
        except serializers.ValidationError as more:
            if isinstance(more.detail, dict):
                errors = {**{k: v for k, v in more.detail.items() if k not in errors}, **errors}
        raise serializers.ValidationError(errors)


class ClosedInput(StrictInput):
    """A ``StrictInput`` that refuses fields (or query parameters) it does not declare: 400 naming each."""

    def validate(self, attrs: Any) -> Any:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return attrs


_ABSENT = object()


def _json_type_error(field: serializers.Field, value: Any) -> str | None:
    """Return why ``value`` (parsed JSON) is not of the type the field's schema states, or None."""
    if value is _ABSENT or (value is None and field.allow_null):
        return None
    if value is None:
        return None  # DRF's own "may not be null"
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return None if whole and not isinstance(value, bool) else "must be a whole number"
    if isinstance(
        field, serializers.CharField | serializers.ChoiceField | serializers.DateField | serializers.DateTimeField
    ):
        if not isinstance(value, str):
            return "must be a string"
        return _text_form_error(field, value)
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        return None if isinstance(value, list) else "must be a list"
    if isinstance(field, serializers.Serializer | serializers.DictField):
        return None if isinstance(value, dict) else "must be an object"
    return None


def _query_errors(fields: Mapping[str, serializers.Field], data: QueryDict) -> dict[str, list[str]]:
    errors = {}
    for name, field in fields.items():
        values = data.getlist(name)
        if not values:
            continue
        if len(values) > 1:
            errors[name] = ["give this parameter once"]
        elif values[0] == "":
            errors[name] = ["must not be empty (leave the parameter out instead)"]
        elif isinstance(field, serializers.IntegerField) and not _WHOLE_NUMBER.fullmatch(values[0]):
            errors[name] = ["must be a whole number"]
        elif problem := _text_form_error(field, values[0]):
            errors[name] = [problem]
    return errors


def _text_form_error(field: serializers.Field, value: str) -> str | None:
    max_length = getattr(field, "max_length", None)
    if isinstance(field, serializers.CharField) and max_length is not None and len(value) > max_length:
        # Before DRF trims: Python's whitespace includes control characters such as \x1c.
        return f"must be at most {max_length} characters"
    if isinstance(field, serializers.DateTimeField) and not _DATE_TIME.fullmatch(value):
        return "must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z"
    if isinstance(field, serializers.DateField) and not _DATE.fullmatch(value):
        return "must be a date as YYYY-MM-DD"
    return None
