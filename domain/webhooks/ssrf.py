"""Which webhook URLs may be called: no internal targets (SSRF).

A target is refused unless it is http(s), carries no credentials, and every
address its host resolves to is public. Loopback, private, link-local, shared
(CGNAT), multicast, reserved and unspecified addresses are refused, including
IPv4 addresses wrapped in IPv6 (mapped, 6to4, Teredo). The check runs when an
endpoint is registered and again before every delivery (DNS can change); the
delivery then connects to the address that was checked, so a second lookup
cannot swap in another one. ``allow_private`` lifts the address rule (tests,
closed networks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.core.errors import DomainError

MAX_URL_LENGTH = 2048
_SCHEMES = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookTargetRefusedError(DomainError):
    """``reason``: INVALID_URL, HTTPS_REQUIRED, UNRESOLVABLE or PRIVATE_ADDRESS."""

    code = "WEBHOOK_TARGET_REFUSED"
    status_code = 422
    default_message = "This webhook URL is not allowed."

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    scheme: str
    host: str  # as written in the URL (lower case, IPv6 without brackets)
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, all allowed

    @property
    def host_is_ip(self) -> bool:
        return _literal_ip(self.host) is not None


@dataclass(frozen=True, slots=True)
class _ParsedUrl:
    scheme: str
    host: str
    port: int


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _parse(url: str, *, require_https: bool) -> _ParsedUrl:
    if not url or len(url) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookTargetRefusedError("Enter a valid http(s) URL.", reason="INVALID_URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetRefusedError("Enter a valid http(s) URL.", reason="INVALID_URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.hostname:
        raise WebhookTargetRefusedError("Enter a valid http(s) URL.", reason="INVALID_URL")
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetRefusedError(
            "Leave credentials out of the URL; verify the signature instead.",
            reason="INVALID_URL",
        )
    if parts.fragment:
        raise WebhookTargetRefusedError("Leave the #fragment out of the URL.", reason="INVALID_URL")
    if require_https and scheme != "https":
        raise WebhookTargetRefusedError("Use an https URL.", reason="HTTPS_REQUIRED")
    return _ParsedUrl(scheme, parts.hostname, port or _SCHEMES[scheme])


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, 6to4 or Teredo IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def is_public_address(value: str | IPAddress) -> bool:
    """True for a globally routable unicast address."""
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0] if isinstance(value, str) else value)
    except ValueError:
        return False
    for candidate in {address, _unwrap(address)}:
        if (
            candidate.is_loopback
            or candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or not candidate.is_global
        ):
            return False
    return True


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetRefusedError(
            f"The host {host} could not be resolved.", reason="UNRESOLVABLE"
        ) from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookTargetRefusedError(
            f"The host {host} could not be resolved.", reason="UNRESOLVABLE"
        )
    return tuple(addresses)


def resolve_target(url: str, *, allow_private: bool, require_https: bool) -> ResolvedTarget:
    """Parse, resolve and check ``url``. Blocking (DNS): from async code use the async twin.

    Raises: WebhookTargetRefusedError.
    """
    parsed = _parse(url, require_https=require_https)
    addresses = _resolve(parsed.host, parsed.port)
    # One internal address is enough to refuse: a resolver may rotate its answers.
    if not allow_private and any(not is_public_address(address) for address in addresses):
        raise WebhookTargetRefusedError(
            "The URL points to a private or internal address.", reason="PRIVATE_ADDRESS"
        )
    return ResolvedTarget(parsed.scheme, parsed.host, parsed.port, addresses)


def check_target(url: str, *, allow_private: bool, require_https: bool) -> None:
    """Raises WebhookTargetRefusedError if ``url`` may not be called."""
    resolve_target(url, allow_private=allow_private, require_https=require_https)


def check_syntax(url: str, *, require_https: bool) -> None:
    """The checks that need no DNS. Raises: WebhookTargetRefusedError."""
    _parse(url, require_https=require_https)


async def resolve_target_async(
    url: str, *, allow_private: bool, require_https: bool, lookup_seconds: float = 10.0
) -> ResolvedTarget:
    """``resolve_target`` in a thread; a lookup slower than ``lookup_seconds`` is UNRESOLVABLE."""
    try:
        async with asyncio.timeout(lookup_seconds):
            return await asyncio.to_thread(
                resolve_target, url, allow_private=allow_private, require_https=require_https
            )
    except TimeoutError as exc:
        raise WebhookTargetRefusedError(
            "The host could not be resolved in time.", reason="UNRESOLVABLE"
        ) from exc


async def check_target_async(
    url: str, *, allow_private: bool, require_https: bool, lookup_seconds: float = 10.0
) -> None:
    await resolve_target_async(
        url, allow_private=allow_private, require_https=require_https, lookup_seconds=lookup_seconds
    )
