"""Plain-ASGI middleware (Starlette's BaseHTTPMiddleware would hide contextvar changes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from loguru import logger
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.core.metrics import REGISTRY
from domain.core.request_context import (
    ClientInfo,
    accept_request_id,
    client_info_var,
    request_id_var,
    user_id_var,
)
from resolvers.http.client_ip import Network, client_ip
from resolvers.http.errors import error_response, internal_error_response

_QUIET_PATHS = frozenset({"/livez", "/readyz"})


class RequestContextMiddleware:
    """Request id, client IP, access log, and the last line of defence against a 500 with a stack.

    The id comes from a well-formed ``X-Request-ID`` or is generated; it is echoed in
    the response, bound to every log line, and carried into jobs.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = accept_request_id(headers.get("x-request-id"))
        peer = scope["client"][0] if scope.get("client") else None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = client_ip(peer, headers.get("x-forwarded-for"), self.trusted_proxies)
        rid_token = request_id_var.set(request_id)
        uid_token = user_id_var.set(None)
        client_token = client_info_var.set(
            ClientInfo(ip=state["client_ip"], user_agent=headers.get("user-agent", "")[:512])
        )
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status:
                raise
            await internal_error_response(exc)(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                elapsed = time.perf_counter() - started
                REGISTRY.observe_request(scope.get("method", ""), status or 500, elapsed)
                self._access_log(scope, status, elapsed)
            client_info_var.reset(client_token)
            user_id_var.reset(uid_token)
            request_id_var.reset(rid_token)

    @staticmethod
    def _access_log(scope: Scope, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        operation = scope.get("state", {}).get("graphql_operation")
        # The path only: query strings may carry tokens.
        fields = {
            "method": scope.get("method"),
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client_ip": scope.get("state", {}).get("client_ip"),
        }
        if operation:
            fields["operation"] = operation
        log = logger.bind(**fields)
        level = "DEBUG" if path in _QUIET_PATHS and status < 500 else "INFO"
        log.log(level, "{} {} {}", scope.get("method"), operation or path, status)


class SecurityHeadersMiddleware:
    """Security headers on every response; a route may set its own CSP (GraphiQL does)."""

    DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    def __init__(self, app: ASGIApp, *, hsts: bool, hsts_max_age: int) -> None:
        self.app = app
        self.hsts = hsts
        self.hsts_value = f"max-age={hsts_max_age}; includeSubDomains"
        # Encoded once: these go on every response, so they are appended as raw pairs.
        self._always = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (
                b"permissions-policy",
                b"camera=(), microphone=(), geolocation=(), payment=(), usb=()",
            ),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-site"),
        ]
        self._csp = (b"content-security-policy", self.DEFAULT_CSP.encode())
        self._no_store = (b"cache-control", b"no-store")
        self._hsts = (b"strict-transport-security", self.hsts_value.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = set()
                headers = []
                for name, value in message.get("headers", ()):
                    name = name.lower()
                    if name in _REPLACED or name == b"server":
                        continue  # ours win; the server is not named
                    present.add(name)
                    headers.append((name, value))
                headers += self._always
                if b"content-security-policy" not in present:
                    headers.append(self._csp)
                if b"cache-control" not in present:
                    headers.append(self._no_store)
                if self.hsts or https:
                    headers.append(self._hsts)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


_REPLACED = frozenset(
    {
        b"x-content-type-options",
        b"x-frame-options",
        b"referrer-policy",
        b"permissions-policy",
        b"cross-origin-opener-policy",
        b"cross-origin-resource-policy",
        b"strict-transport-security",
    }
)


class _BodyTooLargeError(Exception):
    pass


class _BodyTooSlowError(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit (at once by ``Content-Length``, else while reading)
    and bodies that arrive too slowly: a client trickling a body byte by byte would
    otherwise hold a connection, and the request's memory, indefinitely."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_seconds: float = 20.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(400, "Invalid Content-Length header.")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        received = 0
        response_started = False
        body_complete = False
        deadline = asyncio.get_running_loop().time() + self.max_seconds

        async def counting_receive() -> Message:
            nonlocal received, body_complete
            if body_complete:  # afterwards: waiting for a disconnect, not for a body
                return await receive()
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(remaining, 0))
            except TimeoutError as exc:
                raise _BodyTooSlowError from exc
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLargeError
                body_complete = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLargeError:
            if response_started:
                raise
            await self._too_large(scope, receive, send)
        except _BodyTooSlowError:
            if response_started:
                raise
            response = error_response(
                408,
                f"The request body did not arrive within {self.max_seconds:g} seconds.",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            f"The request body is larger than the limit of {self.max_bytes} bytes.",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
