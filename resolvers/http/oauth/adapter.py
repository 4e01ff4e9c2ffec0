"""Starlette requests into authlib's framework-neutral form, and responses back."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.core.actor import Actor
from domain.oauth.server import HttpRequest, HttpResponse
from resolvers.http.state import AppState

MAX_FORM_FIELDS = 50


def state_of(request: Request) -> AppState:
    state: AppState = request.state.gatehouse
    return state


def actor_from(request: Request) -> Actor:
    return Actor.anonymous(
        request.scope.get("state", {}).get("client_ip", "") or "",
        request.headers.get("user-agent", "")[:512],
        request.scope.get("state", {}).get("request_id"),
    )


async def oauth_request(request: Request) -> HttpRequest:
    """The query (GET) or the urlencoded form (POST), every value kept so authlib can
    refuse repeated parameters."""
    params: list[tuple[str, str]] = list(request.query_params.multi_items())
    if request.method == "POST":
        try:
            params = await form_fields(request)
        except ValueError:  # too many fields: authlib answers invalid_request
            params = []
    headers = {k.title(): v for k, v in request.headers.items()}
    client_ip = request.scope.get("state", {}).get("client_ip", "") or ""
    return HttpRequest(request.method, public_url_of(request), headers, params, client_ip)


def public_url_of(request: Request) -> str:
    """The request's URL under the configured public origin (the issuer's; https in
    production), not the one the socket saw: behind a TLS-terminating proxy that is
    plain http, which authlib's transport check would refuse."""
    base = state_of(request).settings.public_url.rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def form_fields(request: Request) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body (the only form OAuth and the pages
    use; the body size is already bounded by the middleware). Anything else is empty."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return []
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)


def to_response(response: HttpResponse) -> Response:
    headers = {name: value for name, value in response.headers if name.lower() != "content-type"}
    # RFC 6749 §5.1: token responses are never cached.
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    body: Any = response.body
    if isinstance(body, dict | list):
        return JSONResponse(body, status_code=response.status, headers=headers)
    return Response(str(body or ""), status_code=response.status, headers=headers)
