"""GraphQL over WebSocket (graphql-transport-ws): every operation admitted like a request.

A socket authenticates once, in ``connection_init``, but lives for hours. So:

- every ``subscribe`` message is admitted exactly as an HTTP request is (token
  signature and expiry, session not revoked, the per-user rate limit at the door),
  with the caller's current session;
- only subscriptions run on a socket; queries and mutations go over HTTP, where
  persisted queries, cost limits and caching apply the same way to everyone;
- the socket closes with 4401 the moment its session ends (logout, or a demotion,
  deactivation or deletion, each of which ends the user's sessions) or its access
  token expires; its subscriptions stop with it. A client reconnects with a fresh
  token (graphql-ws: ``connectionParams`` as a function);
- when Redis cannot be reached to check the token, the socket closes with 1013
  ("try again later"), never as if the credentials were bad.

Messages are sent as text frames: the protocol's reference client (graphql-ws) and
browsers read JSON only from text frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from functools import lru_cache
from typing import Any, cast

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationType,
    get_operation_ast,
    parse,
)
from graphql.error import GraphQLSyntaxError
from redis.exceptions import RedisError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from domain.core.errors import RateLimitedError
from domain.sessions.principal import bearer_token
from domain.sessions.watch import SessionEnded
from schema.context import Context

SESSION_ENDED = 4401  # signed out: get a new token, then reconnect
REFUSED = 4403  # connection_init without a usable token
TRY_AGAIN_LATER = 1013  # the token could not be checked (Redis away)
INVALID_MESSAGE = 4400
# A subscriber to sessionRevoked is told its own session ended before the socket closes.
_FAREWELL_SECONDS = 0.25


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


@lru_cache(maxsize=256)
def _document(query: str, max_tokens: int) -> DocumentNode | None:
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return None  # Strawberry closes the socket with the syntax error (4400)


def _operation(query: str, name: str | None, max_tokens: int) -> tuple[OperationType, set[str]]:
    """The operation's type and its root fields; (SUBSCRIPTION, {}) when unknown, so
    Strawberry reports the document's own error."""
    document = _document(query, max_tokens)
    operation = get_operation_ast(document, name) if document is not None else None
    if operation is None:
        return OperationType.SUBSCRIPTION, set()
    roots = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    return operation.operation, roots


def _well_formed(message: SubscribeMessage) -> bool:
    payload: Any = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables") or {}, dict)
        and isinstance(payload.get("operationName") or "", str)
    )


class AdmittedSocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    context: Context
    _token: str | None = None
    _guard: asyncio.Task[None] | None = None
    _watcher: SessionEnded | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload: Any = message.get("payload") or {}
        if not self.connection_init_received and isinstance(payload, dict):
            raw = payload.get("authorization") or payload.get("Authorization")
            self._token = bearer_token(raw if isinstance(raw, str) else None)
            if self._token is None:
                await self.websocket.close(REFUSED, "Forbidden: no access token")
                return
            if not await self._admit(on_connect=True):
                return
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._guard is None:
            self._guard = asyncio.create_task(self._guard_session())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # closes 4401, per the protocol
            return
        if not _well_formed(message):
            await self.websocket.close(INVALID_MESSAGE, "Invalid subscribe message")
            return
        payload = message["payload"]
        kind, _ = _operation(
            payload["query"],
            payload.get("operationName"),
            self.context.settings.graphql_max_tokens,
        )
        if kind is not OperationType.SUBSCRIPTION:
            await self._refuse(
                message["id"],
                "Only subscriptions run over the WebSocket; send queries and mutations over HTTP.",
                "OPERATION_NOT_ALLOWED",
            )
            return
        try:
            admitted = await self._admit(on_connect=False)
        except RateLimitedError as exc:
            await self._refuse(
                message["id"], exc.message, exc.code, retryAfterSeconds=exc.retry_after_seconds
            )
            return
        if admitted:
            await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            with suppress(asyncio.CancelledError):
                await self._guard
        if self._watcher is not None:
            self.context.services.session_watch.unwatch(self._watcher)
        await super().shutdown()

    async def _admit(self, *, on_connect: bool) -> bool:
        """Admit the socket's token now, as an HTTP request would be; close when refused.

        Raises:
            RateLimitedError: over the caller's budget (the socket stays open).
        """
        context = self.context
        admission = await context.services.admission.admit(self._token, ip=context.meta.ip)
        if admission.unavailable:
            await self.websocket.close(TRY_AGAIN_LATER, "Service unavailable: try again")
            return False
        if admission.principal is None:
            if on_connect:
                await self.websocket.close(REFUSED, "Forbidden: access token refused")
            else:
                await self.websocket.close(SESSION_ENDED, "Session ended or token expired")
            return False
        context.principal = admission.principal
        return True

    async def _guard_session(self) -> None:
        """Close the socket when its session ends or its token expires."""
        context = self.context
        principal = context.require_principal()
        services = context.services
        # An impersonation's socket also closes when the administrator's session ends.
        watched = [principal.session_id]
        if principal.parent_session_id is not None:
            watched.append(principal.parent_session_id)
        self._watcher = services.session_watch.watch(*watched)
        interval = context.settings.websocket_recheck_seconds
        while True:
            remaining = interval
            if principal.expires_at is not None:
                left = (principal.expires_at - context.clock.now()).total_seconds()
                if left <= 0:
                    await self._close(SESSION_ENDED, "Access token expired")
                    return
                remaining = min(interval, left)
            reason = await self._watcher.wait(remaining)
            if reason is None:
                try:
                    for session_id in watched:
                        if await services.revocations.is_revoked(session_id):
                            reason = "revoked"
                except RedisError:
                    continue  # Redis away: the next subscribe answers 1013
            if reason is not None:
                await self._close(SESSION_ENDED, f"Session ended: {reason}"[:120])
                return

    async def _close(self, code: int, reason: str) -> None:
        # A sessionRevoked subscriber hears its own session's end before the close.
        farewells = [op.task for op in self.operations.values() if op.task is not None]
        if farewells:
            await asyncio.wait(farewells, timeout=_FAREWELL_SECONDS)
        with suppress(RuntimeError, WebSocketDisconnected):
            await self.websocket.close(code, reason)

    async def _refuse(self, operation_id: str, message: str, code: str, **extra: object) -> None:
        error = GraphQLError(message, extensions={"code": code, **extra})
        await self.send_message(
            cast(Any, {"id": operation_id, "type": "error", "payload": [error.formatted]})
        )


CONNECTION_INIT_WAIT = timedelta(seconds=10)
MAX_SUBSCRIPTIONS_PER_SOCKET = 20
