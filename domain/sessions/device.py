"""A short, human device label from a User-Agent string ("Firefox on Linux"), and the
client context a refresh is compared by (user-agent family, IP network)."""

from __future__ import annotations

import ipaddress

from ua_parser import parse as ua_parse

# ua-parser's family names where a shorter one reads better in a label, and keeps the
# labels accounts already know ("Safari on iOS", "Chrome on Android") as they were.
_BROWSER_NAMES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "okhttp": "Okhttp",
}
_SYSTEM_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
UNKNOWN = "Other"  # ua-parser's family when nothing matched


def device_label(user_agent: str) -> str:
    """The browser and system families ua-parser finds ("Firefox on Linux"; a maintained
    list of patterns, refreshed with its ``ua-parser-builtins`` release), no versions."""
    parsed = ua_parse(user_agent[:512])
    browser = parsed.user_agent.family if parsed.user_agent is not None else UNKNOWN
    system = parsed.os.family if parsed.os is not None else UNKNOWN
    browser = _BROWSER_NAMES.get(browser, browser) if browser != UNKNOWN else ""
    system = _SYSTEM_NAMES.get(system, system) if system != UNKNOWN else ""
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
