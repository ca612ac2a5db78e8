"""Opaque keyset cursors for lists ordered newest first by (placed_at, order_id).

A cursor names the last row of a page, so the next page starts strictly after it: rows added
or removed meanwhile never shift a page (no duplicates, no gaps), and equal ``placed_at``
values are told apart by ``order_id``. Clients must treat the string as opaque; its format
(URL-safe base64 of ``"<ISO 8601 placed_at>|<order_id>"``, unpadded) may change.
"""

import base64
import binascii
from datetime import datetime

from config.limits import MAX_BIGINT

_SEPARATOR = "|"


class InvalidCursor(ValueError):
    """The cursor was not produced by ``encode_cursor``, or has been tampered with."""


def encode_cursor(*, placed_at: datetime, order_id: int) -> str:
    """Return the opaque cursor that resumes a list after the row (placed_at, order_id)."""
    if placed_at.tzinfo is None:
        raise ValueError("placed_at must be timezone-aware")
    text = f"{placed_at.isoformat()}{_SEPARATOR}{order_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the (placed_at, order_id) a cursor names; raise ``InvalidCursor`` if malformed."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        placed_text, order_text = raw.decode("ascii").split(_SEPARATOR)
        placed_at = datetime.fromisoformat(placed_text)
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise InvalidCursor(f"malformed cursor: {cursor!r}") from error
    if placed_at.tzinfo is None or not order_text.isdigit() or int(order_text) > MAX_BIGINT:
        raise InvalidCursor(f"malformed cursor: {cursor!r}")
    return placed_at, int(order_text)
