"""The bus's settings in one value, and the retry horizon the stream's duplicate window must outlast.

JetStream de-duplicates by ``Nats-Msg-Id`` only within the stream's duplicate window. The relay
republishes a batch when its checkpoint did not move after the acks (a worker killed between
the two, the database gone): the next drain of the relay publishes it again, at the latest
after django-q2 hands a lost task to another worker (``Q_CLUSTER["retry"]``), a batch's
transaction is ended (``PROJECTION_BATCH_IDLE_TIMEOUT``), the sweep comes round (60 s) and the
longest receiver backoff passes. The window must be at least twice that (ADR 0019).

Credentials (ADR 0029): a password in ``NATS_URL`` is never shown: every URL the bus puts in a
log line or an error goes through ``without_credentials`` (``Bus.shown_url``). ``NATS_CREDS``
(a .creds file: JWT and NKey) and ``NATS_NKEY_SEED_FILE`` keep the secret out of the URL
altogether, and TLS is required whenever a URL says ``tls://`` or a ``NATS_TLS_*`` file is set.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

from config.env import without_credentials
from projections.runtime.receivers import MAX_BACKOFF_SECONDS

SWEEP_SECONDS = 60
CONNECT_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class Bus:
    url: str = field(repr=False)  # may hold a password: shown only as ``shown_url``
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
    creds: str | None = None
    nkey_seed_file: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_handshake_first: bool = False

    @property
    def servers(self) -> list[str]:
        return [url.strip() for url in self.url.split(",")]

    @property
    def shown_url(self) -> str:
        """The URLs as they may be logged or shown: no user, password or token (ADR 0029)."""
        return without_credentials(self.url)

    @property
    def tls_required(self) -> bool:
        """Whether every connection must be TLS before anything, credentials above all, is sent."""
        return (
            any(urlsplit(server).scheme in ("tls", "wss") for server in self.servers)
            or any((self.tls_ca, self.tls_cert, self.tls_key))
            or self.tls_handshake_first
        )

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
        creds=settings.NATS_CREDS,
        nkey_seed_file=settings.NATS_NKEY_SEED_FILE,
        tls_ca=settings.NATS_TLS_CA,
        tls_cert=settings.NATS_TLS_CERT,
        tls_key=settings.NATS_TLS_KEY,
        tls_handshake_first=settings.NATS_TLS_HANDSHAKE_FIRST,
    )


def retry_horizon_seconds() -> float:
    """The longest a batch the relay published may wait before it is published again."""
    return settings.Q_CLUSTER["retry"] + settings.PROJECTION_BATCH_IDLE_TIMEOUT + SWEEP_SECONDS + MAX_BACKOFF_SECONDS


def required_duplicate_window_seconds() -> float:
    return 2 * retry_horizon_seconds()
