"""Turn events into JSON payloads and back, upcasting old schema versions on the way in.

The outbox stores ``(event_type, schema_version, payload)``. ``decode`` first lifts an old
payload to the current version through ``UPCASTERS`` (one step per version), then builds the
dataclass, so handlers only ever see the current shape.
"""

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from events.base import Event
from events.catalog import (
    CustomerDeactivated,
    CustomerRegistered,
    CustomerRenamed,
    ProductAdded,
    ProductRepriced,
    ProductRetired,
)
from events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderDiscountApplied,
    OrderLineAdded,
    OrderLineRemoved,
    OrderPlaced,
    OrderShipped,
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        OrderPlaced,
        OrderLineAdded,
        OrderLineRemoved,
        OrderDiscountApplied,
        OrderConfirmed,
        OrderShipped,
        OrderDelivered,
        OrderCancelled,
        CustomerRegistered,
        CustomerRenamed,
        CustomerDeactivated,
        ProductAdded,
        ProductRepriced,
        ProductRetired,
    )
}

Payload = dict[str, Any]

# (event_type, from_version) -> function returning the payload at from_version + 1.
UPCASTERS: dict[tuple[str, int], Callable[[Payload], Payload]] = {}


class UnknownEventError(ValueError):
    """The stored event has a type or schema version this code does not understand."""


def encode(event: Event) -> Payload:
    """Return the event's JSON-ready payload (datetimes as ISO 8601, tuples as lists)."""
    return _encoder(type(event))(event)


def decode(event_type: str, schema_version: int, payload: Payload) -> Event:
    """Build the current-version event from a stored payload of any known version."""
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise UnknownEventError(f"unknown event type {event_type!r}")
    if schema_version > cls.schema_version:
        raise UnknownEventError(f"{event_type} v{schema_version} is newer than this code (v{cls.schema_version})")
    for version in range(schema_version, cls.schema_version):
        upcast = UPCASTERS.get((event_type, version))
        if upcast is None:
            raise UnknownEventError(f"no upcaster for {event_type} v{version}")
        payload = upcast(payload)
    return _from_json(cls, payload)


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


_PLAIN = frozenset({str, int, bool, float, str | None, int | None, bool | None, float | None})


@cache
def _encoder(cls: type) -> Callable[[Any], Payload]:
    """Build (once per class) what ``_to_json`` does for ``cls``, each field's conversion chosen up front.

    The feed and the webhook fan-out encode every event they serve (ADR 0020); walking each
    value with ``is_dataclass`` checks was most of a feed page's time.
    """
    hints = typing.get_type_hints(cls)
    converters = tuple((field.name, _json_converter(hints[field.name])) for field in dataclasses.fields(cls))

    def encode_value(value: Any) -> Payload:
        return {name: convert(getattr(value, name)) for name, convert in converters}

    return encode_value


def _json_converter(hint: Any) -> Callable[[Any], Any]:
    if hint in _PLAIN:
        return _identity
    if typing.get_origin(hint) is tuple and len(args := typing.get_args(hint)) == 2 and args[1] is Ellipsis:
        convert_item = _json_converter(args[0])
        return lambda value: _to_json(value) if not isinstance(value, tuple) else [convert_item(v) for v in value]
    if dataclasses.is_dataclass(hint):
        encode_item = _encoder(hint)
        return lambda value: encode_item(value) if isinstance(value, hint) else _to_json(value)
    return _to_json  # anything else: the general walk


def _from_json(cls: type, data: Payload) -> Any:
    return _decoder(cls)(data)


@cache
def _decoder(cls: type) -> Callable[[Payload], Any]:
    """Build (once per class) a function turning a payload into ``cls``.

    The projections decode every event they drain, so the type hints are read here once,
    not on every call: each field gets a converter chosen from its hint up front.
    """
    hints = typing.get_type_hints(cls)
    converters = tuple((field.name, _converter(hints[field.name])) for field in dataclasses.fields(cls))

    def decode_payload(data: Payload) -> Any:
        return cls(**{name: convert(data[name]) for name, convert in converters})

    return decode_payload


def _converter(hint: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        convert = _converter(inner)
        return lambda value: None if value is None else convert(value)
    if origin is tuple:
        convert_item = _converter(typing.get_args(hint)[0])
        return lambda value: None if value is None else tuple(convert_item(item) for item in value)
    if hint is datetime:
        return lambda value: None if value is None else datetime.fromisoformat(value)
    if dataclasses.is_dataclass(hint):
        return lambda value: None if value is None else _decoder(hint)(value)
    return _identity


def _identity(value: Any) -> Any:
    return value
