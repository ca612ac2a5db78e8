"""Where a webhook may be sent: SSRF safety, checked at creation and again at every connection.

A target must be ``https`` (``http`` only when ``DEBUG`` or ``WEBHOOK_ALLOW_PRIVATE_TARGETS``),
and every address its host resolves to must be a public one: loopback, private, link-local (the
cloud metadata address 169.254.169.254 among them), multicast, reserved and unspecified
addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is set. The delivery connects to
the address vetted here, never to a second resolution of the name, so a name that resolves to
a public address at the check and a private one at connect time (DNS rebinding) gets nowhere.
See ADR 0020.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(ValueError):
    """The URL is not one webhooks may be sent to; the message says why (for a 400 or the log)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str  # the vetted IP to connect to


def allow_private() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)


def check_url(url: str) -> tuple[str, str, int, str]:
    """Return ``(scheme, host, port, path)`` of a URL webhooks may use; raise ``TargetRefused``."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if (settings.DEBUG or allow_private()) else {"https"}
    if parts.scheme not in allowed:
        raise TargetRefused(f"the scheme must be {' or '.join(sorted(allowed))}")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not allowed")
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the port is not a number from 1 to 65535") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def refused_address(address: str) -> str | None:
    """Say why ``address`` may not be reached (None when it is a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for flag, meaning in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local (cloud metadata) address"),
        ("is_private", "a private address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_unspecified", "an unspecified address"),
    ):
        if getattr(ip, flag):
            return meaning
    if not ip.is_global:
        return "not a public address"
    return None


def resolve(url: str) -> Target:
    """Check ``url`` and resolve its host; return the target with the one address to connect to."""
    scheme, host, port, path = check_url(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"the host {host} does not resolve") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    if not allow_private():
        for address in addresses:  # every address: a resolver may hand out any of them later
            reason = refused_address(address)
            if reason:
                raise TargetRefused(f"{host} resolves to {address}, {reason}")
    return Target(scheme, host, port, path, addresses[0])
