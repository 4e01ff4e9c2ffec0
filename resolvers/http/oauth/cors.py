"""CORS for the endpoints a browser app (a public client: an SPA) calls across origins:
token, revocation and userinfo. Only the origins of public clients' registered redirect
URIs are allowed (domain/oauth/clients.py ``origins_of``), never the deployment's
``GATEHOUSE_CORS_ORIGINS`` (that list is for the GraphQL API); a response names its
origin only when that origin is the calling client's own. No credentials: tokens travel
in the body or the Authorization header, never in cookies.

The preflight carries no client, so it is allowed for any public client's origin; the
response that follows is readable only by the client's own origin. Discovery and the
JWKS are public documents: any origin may read them.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from domain.oauth.clients import origins_of
from resolvers.http.oauth.adapter import state_of

TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
USERINFO_PATH = "/oauth2/userinfo"
# The path and the methods a browser app may call it with.
CORS_METHODS = {TOKEN_PATH: "POST", REVOKE_PATH: "POST", USERINFO_PATH: "GET, POST"}
ALLOWED_HEADERS = "Authorization, Content-Type"
MAX_AGE_SECONDS = 600


# Public documents a relying party's browser code reads from any origin (discovery,
# the keys that verify ID tokens); they hold nothing private.
PUBLIC_DOCUMENTS = frozenset({"/.well-known/openid-configuration", "/.well-known/jwks.json"})


class CorsExceptOAuth(CORSMiddleware):
    """Starlette's CORS for everything else; the OAuth paths answer for themselves, and
    the provider's public documents are readable from any origin."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in CORS_METHODS:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] in PUBLIC_DOCUMENTS:
            await self.app(scope, receive, _any_origin(send))
            return
        await super().__call__(scope, receive, send)


def _any_origin(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["Access-Control-Allow-Origin"] = "*"
        await send(message)

    return sending


async def preflight(request: Request) -> Response:
    """OPTIONS on a CORS path: a preflight from a public client's origin is allowed; any
    other OPTIONS is a method the route does not serve."""
    methods = CORS_METHODS[request.url.path]
    origin = request.headers.get("origin")
    wanted = request.headers.get("access-control-request-method")
    if not origin or not wanted:
        return Response(status_code=405, headers={"Allow": methods})
    clients = state_of(request).services.oauth_clients
    if wanted not in methods.split(", ") or origin not in await clients.public_origins():
        # No Access-Control-Allow-Origin: the browser refuses the request.
        return Response(status_code=403, headers={"Vary": "Origin"})
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            "Vary": "Origin",
        },
    )


async def allow_client_origin(request: Request, response: Response, client_id: str | None) -> None:
    """Lets the calling page read ``response`` when its origin is one of the public
    client's own."""
    origin = request.headers.get("origin")
    response.headers["Vary"] = "Origin"
    if not origin or not client_id:
        return
    client = await state_of(request).services.oauth_clients.active(client_id)
    if client is not None and client.is_public and origin in origins_of(client):
        _allow(response, origin)


async def allow_public_origin(request: Request, response: Response) -> None:
    """For an answer that names no client (userinfo refusing a token): readable by any
    public client's origin, as it holds nothing but the refusal."""
    origin = request.headers.get("origin")
    response.headers["Vary"] = "Origin"
    clients = state_of(request).services.oauth_clients
    if origin and origin in await clients.public_origins():
        _allow(response, origin)


def _allow(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
