"""Checks of URL-shaped settings that production refuses to start without (called by
``Settings``' production validation, domain/core/settings.py)."""

from __future__ import annotations


def url_host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]").lower()


def is_loopback_url(url: str) -> bool:
    return url_host(url) in {"localhost", "127.0.0.1", "::1"}


def passkey_problems(rp_id: str, origins: list[str]) -> list[str]:
    """A passkey is bound to the RP ID, and a browser creates one only on a page whose
    host is the RP ID or below it: a mismatch would fail every ceremony at run time."""
    if not rp_id or not origins:
        return ["GATEHOUSE_PASSKEY_RP_ID and GATEHOUSE_PASSKEY_ORIGINS must be set"]
    problems = []
    for origin in origins:
        host = url_host(origin)
        if not origin.startswith("https://") and not is_loopback_url(origin):
            problems.append(f"passkey origin {origin} must be https")
        if host != rp_id.lower() and not host.endswith("." + rp_id.lower()):
            problems.append(f"passkey origin {origin} is not on GATEHOUSE_PASSKEY_RP_ID {rp_id}")
    return problems
