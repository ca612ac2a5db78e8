"""Input checks shared by the services, collecting every bad field before failing once.

Services validate before touching the database, so malformed input (a NUL byte, a
quantity beyond bigint, an id of 10**30) fails as ``ValidationFailed`` and never as a
database error.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from config.limits import MAX_BIGINT, MAX_PRICE, MAX_VERSION
from orders_write.errors import ValidationFailed

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc: C0, DEL and C1
_SURROGATES = re.compile(r"[\ud800-\udfff]")  # lone surrogates (JSON "\ud800") cannot be encoded as UTF-8
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_email_validator = EmailValidator()


class FieldErrors:
    """Collect messages per field; ``raise_if_any`` turns them into one ``ValidationFailed``."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            fields = ", ".join(self.errors)
            raise ValidationFailed(f"invalid input: {fields}", details=self.errors)

    def integer(self, field: str, value: Any, *, minimum: int, maximum: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(field, "must be an integer")
        elif not minimum <= value <= maximum:
            self.add(field, f"must be between {minimum} and {maximum}")

    def identifier(self, field: str, value: Any) -> None:
        self.integer(field, value, minimum=1, maximum=MAX_BIGINT)

    def text(self, field: str, value: Any, *, max_length: int) -> str:
        """Check a one-line text and return it stripped."""
        if not isinstance(value, str):
            self.add(field, "must be a string")
            return ""
        value = value.strip()
        if not value:
            self.add(field, "must not be blank")
        elif len(value) > max_length:
            self.add(field, f"must be at most {max_length} characters")
        elif _CONTROL_CHARS.search(value):
            self.add(field, "must not contain control characters")
        elif _SURROGATES.search(value):
            self.add(field, "must be valid Unicode text")
        return value

    def sku(self, field: str, value: Any, *, max_length: int) -> str:
        value = self.text(field, value, max_length=max_length)
        if value and field not in self.errors and not _SKU.fullmatch(value):
            self.add(field, "may contain only letters, digits, '.', '_' and '-'")
        return value

    def email(self, field: str, value: Any, *, max_length: int) -> str:
        value = self.text(field, value, max_length=max_length)
        if value and field not in self.errors:
            try:
                _email_validator(value)
            except ValidationError:
                self.add(field, "must be a valid email address")
        return value.lower()

    def price(self, field: str, value: Any) -> None:
        self.integer(field, value, minimum=1, maximum=MAX_PRICE)

    def expected_version(self, value: Any) -> None:
        if value is not None:
            self.integer("expected_version", value, minimum=1, maximum=MAX_VERSION)
