"""The country of a client address, offline (iptocc: the regional internet registries'
allocations, shipped inside the package and refreshed with it; ~0.1 µs a look-up, so no
thread pool).

Only a public address has a country: loopback, private, link-local, shared (CGNAT),
documentation and other reserved ranges answer None, and so does anything that is not
an address. A registry's allocation says where a block was assigned, not where its user
sits (a VPN, a mobile carrier's roaming gateway): the signals built on it are alerts.
"""

from __future__ import annotations

import ipaddress

from iptocc import country_code

MAX_ADDRESS_LENGTH = 64  # the longest IPv6 text with a zone is well under this


def country_of(ip: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of ``ip``'s allocation, or None."""
    text = ip.strip()
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        return None
    code = country_code(str(address))
    return code.upper() if code else None
