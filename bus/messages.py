"""One outbox event as a JetStream message: subject, body and headers.

The body is the one public event shape (``public_event_json``), the same bytes the event feed
and the webhooks carry, with contact data only when ``NATS_INCLUDE_CONTACTS`` says so (ADR 0031).
``Nats-Msg-Id`` is the event id: JetStream drops a message whose id it has seen within the
stream's duplicate window, so a republished batch lands once.
"""

from dataclasses import dataclass

from bus.config import Bus
from projections.store import StoredEvent
from projections.store.public import public_event_json

MSG_ID = "Nats-Msg-Id"
CORRELATION_ID = "Correlation-Id"
EVENT_TYPE = "Event-Type"
POSITION = "Position"
_HEADER_LINE_OVERHEAD = 4  # ": " and CRLF per header, as NATS frames them
_HEADER_FRAME_OVERHEAD = 16  # "NATS/1.0\r\n" and the closing CRLF


@dataclass(frozen=True)
class Message:
    event_id: str
    subject: str
    body: bytes
    headers: dict[str, str]

    @property
    def size(self) -> int:
        """Bytes as JetStream counts them against its limits (body and headers)."""
        header_bytes = sum(len(k) + len(v) + _HEADER_LINE_OVERHEAD for k, v in self.headers.items())
        return len(self.body) + header_bytes + _HEADER_FRAME_OVERHEAD


def message_of(stored: StoredEvent, bus: Bus) -> Message:
    if stored.event_id is None:
        raise ValueError(f"event at position {stored.position} has no event id: it cannot be de-duplicated")
    event_type = stored.event.event_type
    headers = {MSG_ID: str(stored.event_id), EVENT_TYPE: event_type, POSITION: str(stored.position)}
    if stored.correlation_id is not None:
        headers[CORRELATION_ID] = str(stored.correlation_id)
    return Message(
        event_id=headers[MSG_ID],
        subject=bus.subject(stored.aggregate_type, event_type),
        body=public_event_json(stored, contacts=bus.contacts),
        headers=headers,
    )
