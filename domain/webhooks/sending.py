"""One HTTP attempt of a delivery: sign, dial the checked address, read a snippet.

The target is resolved and checked again right before the POST (DNS may have changed
since registration), and the checked address is what gets dialled, so a rebinding
name cannot send the request elsewhere. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.webhooks.documents import WebhookDelivery, WebhookEndpoint, WebhookEvent
from domain.webhooks.events import USER_AGENT, envelope, utc
from domain.webhooks.signing import signature_header
from domain.webhooks.ssrf import ResolvedTarget, WebhookTargetRefusedError
from domain.webhooks.targets import TargetPolicy

SNIPPET_CHARS = 500
_READ_LIMIT = 4096  # bytes of a response body read for the snippet
_MAX_ADDRESSES = 4


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    duration_ms: int
    error: str | None
    snippet: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, then the previous one while its overlap lasts."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and utc(expires) > now:
        secrets.append(endpoint.previous_secret)
    return secrets


class WebhookSender:
    def __init__(self, settings: Settings, clock: Clock, targets: TargetPolicy) -> None:
        self._settings = settings
        self._clock = clock
        self._targets = targets

    async def attempt(
        self,
        endpoint: WebhookEndpoint,
        event: WebhookEvent,
        delivery: WebhookDelivery,
        client: httpx.AsyncClient,
    ) -> AttemptResult:
        body = envelope(event)
        now = self._clock.now()
        timestamp = int(now.timestamp())
        started = time.perf_counter()

        def elapsed_ms() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            target = await self._targets.resolve(endpoint.url)
        except WebhookTargetRefusedError as exc:
            return AttemptResult(None, elapsed_ms(), f"refused: {exc.message}", None)
        url = httpx.URL(endpoint.url)
        headers = {
            # The checked address is dialled; Host and TLS (SNI, certificate) keep the name.
            "Host": url.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Gatehouse-Event-Id": event.id,
            "Gatehouse-Event-Type": event.type,
            "Gatehouse-Delivery-Id": delivery.id,
            "Gatehouse-Timestamp": str(timestamp),
            "Gatehouse-Signature": signature_header(
                signing_secrets(endpoint, now), timestamp, body
            ),
        }
        extensions: dict[str, Any] = {}
        if target.scheme == "https" and not target.host_is_ip:
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
        timeout = self._settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                response, raw = await _post(client, url, target, body, headers, extensions)
        except TimeoutError:
            return AttemptResult(None, elapsed_ms(), f"timed out after {timeout:g}s", None)
        except httpx.HTTPError as exc:
            return AttemptResult(None, elapsed_ms(), f"{type(exc).__name__}: {exc}"[:500], None)
        code = response.status_code
        snippet = raw.decode("utf-8", errors="replace")[:SNIPPET_CHARS] or None
        error: str | None = None
        if response.is_redirect:
            location = response.headers.get("location", "")[:200]
            error = f"HTTP {code}: redirect to {location!r} not followed"
        elif not 200 <= code < 300:
            error = f"HTTP {code}"
        return AttemptResult(code, elapsed_ms(), error, snippet)


async def _post(
    client: httpx.AsyncClient,
    url: httpx.URL,
    target: ResolvedTarget,
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, Any],
) -> tuple[httpx.Response, bytes]:
    """POST to the checked addresses in turn until one accepts the connection (nothing
    was sent to one that refused it). Redirects are never followed."""
    addresses = target.addresses[:_MAX_ADDRESSES]
    for index, address in enumerate(addresses):
        request = client.build_request(
            "POST",
            url.copy_with(host=address),
            content=body,
            headers=headers,
            extensions=extensions,
        )
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
            continue
        try:
            return response, await _read_prefix(response, _READ_LIMIT)
        finally:
            await response.aclose()
    raise httpx.ConnectError("no address to connect to")


async def _read_prefix(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
