"""Connect to NATS failing fast when nobody answers, with the bus's credentials, TLS required when asked.

nats-py's ``connect`` keeps retrying a server that refuses, ``reconnect_time_wait`` apart, until
``max_reconnect_attempts`` is exceeded, and for ever when that is 0: one retry, 0.1 s later.

TLS (ADR 0029): nats-py upgrades a ``tls://`` connection to TLS only when the server's INFO line
says ``tls_required``; a server (or anyone in the middle) that leaves it out gets the CONNECT
line, password and all, in clear. When the bus requires TLS, ``_TlsClient`` reads the INFO line
first: a server that offers no TLS is refused before anything is sent, and one that merely
offers it (``tls_available``) is upgraded all the same. With ``NATS_TLS_HANDSHAKE_FIRST`` the
handshake comes before the INFO line (servers configured with ``handshake_first``).
"""

import ssl
from typing import Any

from nats.aio.client import Client
from nats.errors import Error

from bus.config import CONNECT_TIMEOUT_SECONDS, Bus


class TlsNotOffered(Error):
    """The bus requires TLS and the server does not offer it: nothing was sent to it."""


class _TlsClient(Client):
    """nats-py's client that never sends its CONNECT line in clear when the bus requires TLS."""

    async def _process_info(self, info: dict[str, Any], initial_connection: bool = False) -> None:
        server = self._current_server
        upgrading = server is not None and server.uri.scheme in ("nats", "tls")  # wss:// is TLS from the start
        if initial_connection and upgrading and not self.options["tls_handshake_first"]:
            if not (info.get("tls_required") or info.get("tls_available")):
                raise TlsNotOffered(
                    f"nats: TLS is required but the server at {server.uri.hostname}:{server.uri.port} "
                    "does not offer it; nothing was sent"
                )
            info["tls_required"] = True  # the client's own server info: nats-py upgrades the socket next
        await super()._process_info(info, initial_connection)


def tls_context(current: Bus) -> ssl.SSLContext:
    """The TLS settings: the system's CAs or ``NATS_TLS_CA``, the host name checked, a client certificate if set."""
    context = ssl.create_default_context(cafile=current.tls_ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if current.tls_cert is not None:
        context.load_cert_chain(current.tls_cert, current.tls_key)
    return context


async def connect(current: Bus, **options: Any) -> Client:
    """Connect to the bus ``current`` describes; ``options`` go to nats-py's ``connect``."""
    if current.creds is not None:
        options["user_credentials"] = current.creds
    if current.nkey_seed_file is not None:
        options["nkeys_seed"] = current.nkey_seed_file
    client = Client()
    if current.tls_required:
        client = _TlsClient()
        options.update(tls=tls_context(current), tls_handshake_first=current.tls_handshake_first)
    await client.connect(
        current.servers,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        **options,
    )
    return client
