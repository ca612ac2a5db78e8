"""The bus's settings in one value, and the retry horizon the stream's duplicate window must outlast.

JetStream de-duplicates by ``Nats-Msg-Id`` only within the stream's duplicate window. The relay
republishes a batch when its checkpoint did not move after the acks (a worker killed between
the two, the database gone): the next drain of the relay publishes it again, at the latest
after django-q2 hands a lost task to another worker (``Q_CLUSTER["retry"]``), a batch's
transaction is ended (``PROJECTION_BATCH_IDLE_TIMEOUT``), the sweep comes round (60 s) and the
longest receiver backoff passes. The window must be at least twice that (ADR 0019).
"""

from dataclasses import dataclass

from django.conf import settings

from projections.runtime.receivers import MAX_BACKOFF_SECONDS

SWEEP_SECONDS = 60
CONNECT_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class Bus:
    url: str
    stream: str
    prefix: str
    max_age_seconds: int
    max_bytes: int
    max_msgs: int
    max_msg_size: int
    duplicate_window_seconds: int
    ack_timeout_seconds: int
    # Whether messages carry contact data (NATS_INCLUDE_CONTACTS): a stream's subscribers are not
    # users this system can check rights for, so it is the operator's explicit choice (ADR 0031).
    contacts: bool

    @property
    def subjects(self) -> str:
        """The stream's subjects: everything under the prefix."""
        return f"{self.prefix}.>"

    def subject(self, aggregate_type: str, event_type: str) -> str:
        return f"{self.prefix}.{aggregate_type}.{event_type}"


def bus() -> Bus:
    """The bus as configured now (read each time: tests and commands change the settings)."""
    return Bus(
        url=settings.NATS_URL or "nats://127.0.0.1:4222",
        stream=settings.NATS_STREAM,
        prefix=settings.NATS_SUBJECT_PREFIX,
        max_age_seconds=settings.NATS_MAX_AGE_SECONDS,
        max_bytes=settings.NATS_MAX_BYTES,
        max_msgs=settings.NATS_MAX_MSGS,
        max_msg_size=settings.NATS_MAX_MSG_SIZE,
        duplicate_window_seconds=settings.NATS_DUPLICATE_WINDOW_SECONDS,
        ack_timeout_seconds=settings.NATS_ACK_TIMEOUT_SECONDS,
        contacts=settings.NATS_INCLUDE_CONTACTS,
    )


def retry_horizon_seconds() -> float:
    """The longest a batch the relay published may wait before it is published again."""
    return settings.Q_CLUSTER["retry"] + settings.PROJECTION_BATCH_IDLE_TIMEOUT + SWEEP_SECONDS + MAX_BACKOFF_SECONDS


def required_duplicate_window_seconds() -> float:
    return 2 * retry_horizon_seconds()
