"""Webhook signatures: ``Gatehouse-Signature: v1=<hex>[, v1=<hex>]``.

Each ``v1`` value is the hex HMAC-SHA256, keyed with an endpoint secret, of
``f"{timestamp}.{raw body}"`` where ``timestamp`` is the ``Gatehouse-Timestamp``
header (unix seconds). During a secret rotation's overlap the header carries one
``v1`` entry per secret, so a receiver holding either secret accepts the request.

``verify_signature`` is the helper receivers copy into their own code: it needs
only the standard library (hmac, hashlib, time).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

SCHEME = "v1"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"<timestamp>.<body>"`` keyed with ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int | str, body: bytes) -> str:
    """``v1=<sig>`` for each secret, newest first, joined by ``", "``."""
    return ", ".join(f"{SCHEME}={sign(secret, timestamp, body)}" for secret in secrets)


# --- copy from here: a receiver's verification helper (standard library only) ---


def verify_signature(
    secret: str,
    header: str,
    timestamp: str,
    body: bytes,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True if ``header`` (Gatehouse-Signature) holds a valid signature of ``body``.

    ``timestamp`` is the Gatehouse-Timestamp header and ``body`` the raw request
    body, byte for byte, before any JSON parsing. Requests whose timestamp is more
    than ``tolerance_seconds`` away from ``now`` are rejected, which bounds replays;
    also remember the ``Gatehouse-Event-Id`` of events already handled, since an
    event can arrive more than once.
    """
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    valid = False
    for entry in header.split(","):
        scheme, _, value = entry.strip().partition("=")
        # Compare every entry (no early exit) in constant time.
        if scheme == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            valid = True
    return valid
