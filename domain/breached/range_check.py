"""The k-anonymity check: ask a Pwned Passwords style ``range`` API about a password.

Only the first 5 hex digits of the password's SHA-1 leave the server
(``GET {base}/range/{PREFIX}``); the API answers every known suffix under that prefix,
one ``SUFFIX:COUNT`` a line, and the match is made here. ``Add-Padding: true`` asks for
decoy lines (count 0) so the response size does not narrow down the prefix either.

Every call is bounded: the timeout covers the whole exchange (a server dripping bytes
cannot stretch it one read timeout at a time), and a cap on the body read (a real answer
is ~30-40 KB with padding), parsed in one pass.
"""

from __future__ import annotations

import asyncio

import httpx

MAX_BODY_BYTES = 2_000_000
PREFIX_LENGTH = 5


class RangeUnavailableError(Exception):
    """The range API did not give a usable answer (timeout, refused, non-200, too big)."""


def range_http_client(timeout_seconds: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout_seconds,
        follow_redirects=False,
        headers={"Add-Padding": "true", "User-Agent": "gatehouse-breached-password-check"},
    )


def suffix_listed(body: bytes, suffix: str) -> bool:
    """Whether ``suffix`` (upper-case hex) is on a line with a count above zero."""
    wanted = suffix.encode("ascii")
    for line in body.splitlines():
        found, _, count = line.strip().partition(b":")
        if found.upper() == wanted:
            return count.strip() not in (b"", b"0")
    return False


class RangeCheck:
    def __init__(self, base_url: str, http: httpx.AsyncClient, timeout_seconds: float) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._timeout = timeout_seconds

    async def is_listed(self, sha1_hex: str) -> bool:
        """Raises: RangeUnavailableError."""
        digest = sha1_hex.upper()
        prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._fetch(prefix)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise RangeUnavailableError(f"range API unreachable: {type(exc).__name__}") from exc
        return suffix_listed(body, suffix)

    async def _fetch(self, prefix: str) -> bytes:
        async with self._http.stream("GET", f"{self._base}/range/{prefix}") as response:
            if response.status_code != 200:
                raise RangeUnavailableError(f"range API answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise RangeUnavailableError("range API answer too large")
        return bytes(body)

    async def aclose(self) -> None:
        await self._http.aclose()
