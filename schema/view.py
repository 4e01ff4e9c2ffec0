"""Strawberry's ASGI view, adapted: typed context, our error model, orjson, status codes."""

from __future__ import annotations

from typing import Any, cast

import orjson
from cross_web import HTTPException
from loguru import logger
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from domain.apikeys.service import ApiKeyPrincipal
from domain.core.errors import DependencyUnavailableError, RateLimitedError
from domain.core.outages import is_dependency_outage
from domain.core.request_context import user_id_var
from domain.persisted_queries.protocol import PersistedQueryError
from domain.services import Services
from domain.sessions.principal import bearer_token
from resolvers.guards import set_rate_headers
from resolvers.http.state import AppState
from schema.context import Context, RequestMeta
from schema.errors import format_errors
from schema.graphiql import GRAPHIQL_CSP, render_graphiql_page
from schema.media_types import ResponseMedia, error_response, label, negotiate
from schema.persisted_queries import remember, resolve
from schema.socket import (
    CONNECTION_INIT_WAIT,
    MAX_SUBSCRIPTIONS_PER_SOCKET,
    AdmittedSocketHandler,
    TextFrameWebSocketAdapter,
)

SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 2

_HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


class GatehouseGraphQL(GraphQL[Context, None]):
    # Sockets: only graphql-transport-ws (the legacy graphql-ws protocol would bypass
    # the per-operation admission), every operation admitted, text frames.
    graphql_transport_ws_handler_class = AdmittedSocketHandler
    websocket_adapter_class = TextFrameWebSocketAdapter

    def __init__(self, *args: Any, endpoint: str = "/graphql", **kwargs: Any) -> None:
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        kwargs.setdefault("connection_init_wait_timeout", CONNECTION_INIT_WAIT)
        kwargs.setdefault("max_subscriptions_per_connection", MAX_SUBSCRIPTIONS_PER_SOCKET)
        super().__init__(*args, **kwargs)
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = negotiate(request.headers.get("accept"))
        scope.setdefault("state", {})["graphql_media"] = media
        try:
            response = await self.run(request)
            label(response, media)
        except ClientDisconnect:
            return  # the client left while its body was read: nobody to answer
        except RateLimitedError as exc:
            response = error_response(
                media, 429, exc.message, exc.code, {"Retry-After": str(exc.retry_after_seconds)}
            )
        except PersistedQueryError as exc:
            status = media.request_error_status() if exc.well_formed else 400
            response = error_response(media, status, exc.message, exc.code)
        except HTTPException as exc:
            response = _http_exception_response(media, exc)
        except Exception as exc:
            if not (isinstance(exc, DependencyUnavailableError) or is_dependency_outage(exc)):
                raise
            # Before execution (the caller's token or API key could not be checked): "try
            # again", never "unauthenticated", or clients would discard good tokens.
            logger.warning("dependency unavailable before execution: {}", exc)
            error = DependencyUnavailableError()
            response = error_response(
                media,
                503,
                error.message,
                error.code,
                {"Retry-After": str(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS)},
            )
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state: AppState = request.state.gatehouse
        scope_state = request.scope.get("state", {})
        meta = RequestMeta(
            request_id=scope_state.get("request_id", ""),
            ip=scope_state.get("client_ip", ""),
            user_agent=request.headers.get("user-agent", "")[:512],
        )
        if isinstance(request, WebSocket):
            # Authenticated in on_ws_connect, from the connection_init payload.
            return Context(
                settings=state.settings,
                clock=state.clock,
                services=state.services,
                redis=state.redis,
                meta=meta,
                request=request,  # type: ignore[arg-type]
                response=Response(),
            )
        assert isinstance(response, Response)
        request.scope.setdefault("state", {})["graphql_sub_response"] = response
        api_key = await self._api_key(request, state.services)
        admission = await state.services.admission.admit(
            bearer_token(request.headers.get("authorization")), ip=meta.ip, api_key=api_key
        )
        if admission.unavailable:
            raise DependencyUnavailableError
        principal = admission.principal
        if principal is not None:
            user_id_var.set(principal.user_id)
        context = Context(
            settings=state.settings,
            clock=state.clock,
            services=state.services,
            redis=state.redis,
            meta=meta,
            request=request,
            response=response,
            principal=principal,
            api_key=api_key,
            cached_account=admission.cached_account,
        )
        set_rate_headers(context, admission.decision)
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket authenticates in ``connection_init`` ({"authorization": "Bearer ..."}),
        admitted by the socket handler (schema/socket.py) before this is called."""
        if context.principal is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return cast(UnsetType, UNSET)

    @staticmethod
    async def _api_key(request: Request, services: Services) -> ApiKeyPrincipal | None:
        raw = request.headers.get("x-api-key")
        if not raw:
            return None
        return await services.api_keys.authenticate(raw[:200])

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET that carries a persisted-query hash is an operation, not a browser visit.
        return super().should_render_graphql_ide(request) and (
            request.query_params.get("extensions") is None
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        store = context.services.persisted_queries
        operations = request_data if isinstance(request_data, list) else [request_data]
        digests = [await resolve(store, operation) for operation in operations]
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        results = result if isinstance(result, list) else [result]
        for operation, digest, one in zip(operations, digests, results, strict=False):
            await remember(store, digest, operation.query, one)
        return result

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        response = HTMLResponse(render_graphiql_page(self._endpoint))
        response.headers["Content-Security-Policy"] = GRAPHIQL_CSP
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # A request error (the document or its variables cannot run) has no field path
        # and no data: the client's fault, so the status says so.
        request_error = isinstance(result, PreExecutionError) or (
            result.data is None
            and bool(result.errors)
            and all(error.path is None for error in result.errors or [])
        )
        media = request.scope.get("state", {}).get("graphql_media", ResponseMedia.LEGACY_JSON)
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = format_errors(result.errors, pre_execution=request_error)  # type: ignore[typeddict-item]
            if request_error:
                if not media.request_errors_carry_data:
                    del data["data"]
                sub_response = request.scope.get("state", {}).get("graphql_sub_response")
                if isinstance(sub_response, Response):
                    sub_response.status_code = media.request_error_status()
        if result.extensions:
            data["extensions"] = result.extensions
        return data

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses nesting deeper than 1024 with a JSONDecodeError, which Strawberry
        # answers with a 400; the standard library recursed into a RecursionError (a 500
        # with a stack in the log) on a body of a few kilobytes of "[".
        return orjson.loads(data)


def _http_exception_response(media: ResponseMedia, exc: HTTPException) -> Response:
    """Strawberry's refusals of the HTTP request, in our error shape and the spec's status."""
    reason = exc.reason
    status, code, allow = exc.status_code, _HTTP_ERROR_CODES.get(exc.status_code, "BAD_REQUEST"), ""
    if reason.lower().startswith("mutations are not allowed when using get"):
        status, code, allow = 405, "METHOD_NOT_ALLOWED", "POST"
    elif status == 405:
        allow = "GET, POST"
    elif reason == "Unsupported content type":
        status, code = 415, "UNSUPPORTED_MEDIA_TYPE"
        reason = "Send the operation as JSON (Content-Type: application/json)."
    return error_response(media, status, reason, code, {"Allow": allow} if allow else None)
