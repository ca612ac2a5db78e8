"""Where a webhook may be sent: SSRF safety, checked at creation and again at every connection.

A target must be ``https`` (``http`` only when ``DEBUG`` or ``WEBHOOK_ALLOW_PRIVATE_TARGETS``),
name an allowed port, and every address its host resolves to must be a public one: loopback,
private, link-local (the cloud metadata address 169.254.169.254 among them), site-local,
multicast, reserved and unspecified addresses are refused, and so is an IPv6 address whose
embedded IPv4 address (IPv4-mapped or -compatible, NAT64, 6to4, Teredo) is any of those, unless
``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is set. The delivery connects to the address vetted here,
never to a second resolution of the name, so a name that resolves to a public address at the
check and a private one at connect time (DNS rebinding) gets nowhere. A refusal never says what
a name resolved to: the caller learns nothing of the internal DNS. See ADR 0020 and ADR 0027.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Ports of services commonly found on internal networks (databases, brokers, caches, cluster
# control planes); refused by the default port policy even above 1024 (ADR 0027).
INTERNAL_SERVICE_PORTS = frozenset({
    1433, 1521, 2049, 2181, 2375, 2376, 2379, 2380, 3306, 3389, 4222, 4369, 5432, 5672, 5984, 6379,
    6443, 8086, 8200, 8222, 8500, 9042, 9092, 9200, 9300, 10250, 10255, 11211, 15672, 27017,
})  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, where the IPv4 sits varies
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated (RFC 3879), still routed inside some networks


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


def port_allowed(port: int) -> bool:
    """Say whether a URL may name ``port``: ``WEBHOOK_ALLOWED_PORTS`` when set, else the default policy."""
    if settings.WEBHOOK_ALLOWED_PORTS:
        return any(low <= port <= high for low, high in settings.WEBHOOK_ALLOWED_PORTS)
    return port in (80, 443) or (port >= 1024 and port not in INTERNAL_SERVICE_PORTS)


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
    if not allow_private() and not port_allowed(port):
        raise TargetRefused(f"the port {port} is not allowed for webhooks (WEBHOOK_ALLOWED_PORTS)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[list[ipaddress.IPv4Address], bool]:
    """The IPv4 addresses ``ip`` carries, and whether ``ip`` is only a way to reach the first one.

    IPv4-mapped and NAT64 (64:ff9b::/96, what DNS64 hands out on IPv6-only networks) addresses
    reach exactly their IPv4 address, so they are judged by it alone; IPv4-compatible (::a.b.c.d),
    6to4 and Teredo addresses must embed public IPv4 addresses and are judged themselves as well.
    """
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped], True
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)], True
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return [ipaddress.IPv4Address(int(ip))], False
    if ip.sixtofour is not None:
        return [ip.sixtofour], False
    if ip.teredo is not None:
        return list(ip.teredo), False
    return [], False


def refused_address(address: str) -> str | None:
    """Say why ``address`` may not be reached (None when it is a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SITE_LOCAL:
            return "a site-local address"
        if ip in _NAT64_LOCAL:
            return "a local-use NAT64 address"
        embedded, only_that = _embedded_ipv4(ip)
        for ipv4 in embedded:
            reason = refused_address(str(ipv4))
            if reason:
                return f"an IPv6 address embedding {reason}"
        if only_that:
            return None
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


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def resolve(url: str) -> Target:
    """Check ``url`` and resolve its host; return the target with the one address to connect to.

    A name that does not resolve and one that resolves to a refused address get the same
    answer, which names no address: the refusal is no probe of the internal DNS.
    """
    scheme, host, port, path = check_url(url)
    literal = _literal(host)
    if literal is not None and not allow_private():
        reason = refused_address(literal)
        if reason:
            raise TargetRefused(f"{host} is {reason}")
    not_public = TargetRefused(f"{host} must resolve, and to public addresses only")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise not_public from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise not_public
    # Every address: a resolver may hand out any of them later.
    if not allow_private() and any(refused_address(address) for address in addresses):
        raise not_public
    return Target(scheme, host, port, path, addresses[0])
