"""A short, human device label from a User-Agent string ("Firefox on Linux"), and the
client context a refresh is compared by (user-agent family, IP network)."""

from __future__ import annotations

import ipaddress
import re

from ua_parser import parse as ua_parse

_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Safari", re.compile(r"Version/[\d.]+.*Safari/")),
    ("curl", re.compile(r"^curl/")),
    ("Python", re.compile(r"python-httpx|python-requests|aiohttp", re.IGNORECASE)),
    ("Okhttp", re.compile(r"okhttp", re.IGNORECASE)),
)
_SYSTEMS = (
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def device_label(user_agent: str) -> str:
    ua = user_agent[:512]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(ua)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def user_agent_family(user_agent: str) -> str:
    """The browser or client family ("Firefox", "Chrome Mobile"), "Other" when unknown.

    Versions are left out: a browser updating itself between two refreshes is the same
    client. ua-parser's own cache keeps repeated look-ups cheap.
    """
    parsed = ua_parse(user_agent[:512]).user_agent
    return parsed.family if parsed is not None else "Other"


def ip_network(ip: str) -> str:
    """The address's network: /24 for IPv4, /64 for IPv6 (a phone's or a home's
    addresses wander inside these); the text itself when it is not an address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_context(user_agent: str, ip: str) -> str:
    """What two requests of one client share: user-agent family and IP network."""
    return f"{user_agent_family(user_agent)}|{ip_network(ip)}"
