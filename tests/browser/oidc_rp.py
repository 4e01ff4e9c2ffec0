"""A small server-side relying party for the browser test of Gatehouse as an OpenID
provider (issue 20), written with libraries Gatehouse does not use as a provider.

Starlette with authlib's Starlette client (``OAuth().register`` on the discovery URL,
PKCE S256, ``nonce``, ``state`` in a signed session cookie): ``/login`` sends the browser
to ``/oauth2/authorize``; ``/callback`` checks the response's ``iss`` (RFC 9207), lets
authlib exchange the code and verify the ID token through discovery + JWKS (signature,
``iss``, ``aud``, ``nonce``, ``exp``, ``at_hash``), calls userinfo, and verifies the same
ID token a second time with idpyoidc (discovery parsed by its
``ProviderConfigurationResponse``, keys in cryptojwt's ``KeyJar``). ``/refresh``,
``/introspect`` (as a resource server, a client of its own), ``/revoke`` (RFC 7009),
``/logout`` (authlib's ``logout_redirect`` with ``id_token_hint``) and ``/after-logout``
(``state`` checked) follow. Each route answers with a page holding one JSON object in
``<pre id="result">`` for the browser driver to read; tokens stay on the server.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from cryptojwt.key_jar import KeyJar  # type: ignore[import-untyped]
from idpyoidc.message.oidc import (  # type: ignore[import-untyped]
    AccessTokenResponse,
    ProviderConfigurationResponse,
)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

SCOPE = "openid email profile offline_access"
CALLBACK = "/callback"
AFTER_LOGOUT = "/after-logout"


@dataclass(frozen=True)
class RelyingParty:
    issuer: str
    origin: str  # http://127.0.0.1:<port>, where this app listens
    client_id: str
    client_secret: str
    resource_server: tuple[str, str]  # the client id and secret introspection uses

    @property
    def port(self) -> int:
        return int(urlsplit(self.origin).port or 80)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def page(result: dict[str, Any], status: int = 200) -> HTMLResponse:
    text = html.escape(json.dumps(result, sort_keys=True, default=str))
    return HTMLResponse(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">'
        f'<title>Notebook</title><pre id="result">{text}</pre>',
        status_code=status,
    )


async def cross_check(rp: RelyingParty, token: dict[str, Any], nonce: str) -> dict[str, Any]:
    """idpyoidc's reading of discovery and of the ID token (signature against the JWKS,
    ``iss``, ``aud``/``azp``, ``exp``/``iat``, ``nonce``, ``at_hash``); its claims."""
    async with httpx.AsyncClient() as http:
        discovery = (await http.get(rp.discovery_url)).raise_for_status().json()
        provider = ProviderConfigurationResponse(**discovery)
        provider.verify(allow_http=True)  # the test's issuer is http://127.0.0.1
        jwks = (await http.get(provider["jwks_uri"])).raise_for_status().json()
    keyjar = KeyJar()
    keyjar.import_jwks(jwks, provider["issuer"])
    response = AccessTokenResponse(
        access_token=token["access_token"],
        token_type=token["token_type"],
        id_token=token["id_token"],
    )
    if not response.verify(
        keyjar=keyjar,
        iss=provider["issuer"],
        client_id=rp.client_id,
        nonce=nonce,
        check_hash=True,
        allowed_sign_alg="RS256",
        skew=60,
    ):
        raise ValueError("idpyoidc refused the ID token")
    claims: dict[str, Any] = response["__verified_id_token"].to_dict()
    return claims


def build_app(rp: RelyingParty) -> Starlette:
    oauth = OAuth()
    oauth.register(
        "gatehouse",
        client_id=rp.client_id,
        client_secret=rp.client_secret,
        server_metadata_url=rp.discovery_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    gatehouse = oauth.create_client("gatehouse")
    store: dict[str, dict[str, Any]] = {}  # the signed-in session's tokens, by session key

    def held(request: Request) -> dict[str, Any]:
        return store[request.session["key"]]

    async def endpoint(name: str) -> str:
        metadata: dict[str, Any] = await gatehouse.load_server_metadata()
        return str(metadata[name])

    async def introspect(raw: str) -> dict[str, Any]:
        client_id, secret = rp.resource_server
        async with AsyncOAuth2Client(client_id=client_id, client_secret=secret) as server:
            answer = await server.introspect_token(
                await endpoint("introspection_endpoint"), token=raw
            )
        body: dict[str, Any] = answer.raise_for_status().json()
        return body

    async def userinfo_status(access_token: str) -> int:
        async with httpx.AsyncClient() as http:
            answer = await http.get(
                await endpoint("userinfo_endpoint"),
                headers={"Authorization": f"Bearer {access_token}"},
            )
        return answer.status_code

    async def login(request: Request) -> Response:
        response: Response = await gatehouse.authorize_redirect(request, rp.origin + CALLBACK)
        return response

    async def callback(request: Request) -> Response:
        issuer = request.query_params.get("iss")
        if issuer != await endpoint("issuer"):  # RFC 9207, before the code is used
            return page({"error": f"iss {issuer!r}"}, 400)
        sent = await gatehouse.framework.get_state_data(
            request.session, request.query_params.get("state")
        )
        # authlib: state, code exchange with the PKCE verifier, ID token verified.
        token: dict[str, Any] = dict(await gatehouse.authorize_access_token(request))
        userinfo = dict(await gatehouse.userinfo(token=token))
        idpyoidc = await cross_check(rp, token, sent["nonce"])
        key = secrets.token_urlsafe(16)
        request.session["key"] = key
        store[key] = {"token": token, "previous_refresh": None, "first": token}
        return page(
            {
                "idToken": dict(token["userinfo"]),
                "idpyoidc": idpyoidc,
                "nonceSent": sent["nonce"],
                "scope": token.get("scope"),
                "userinfo": userinfo,
            }
        )

    async def refresh(request: Request) -> Response:
        entry = held(request)
        old = entry["token"]
        token: dict[str, Any] = dict(
            await gatehouse.fetch_access_token(
                grant_type="refresh_token", refresh_token=old["refresh_token"]
            )
        )
        entry.update(token=token, previous_refresh=old["refresh_token"])
        result: dict[str, Any] = {
            "newAccessToken": token["access_token"] != old["access_token"],
            "newRefreshToken": token["refresh_token"] != old["refresh_token"],
            "userinfo": dict(await gatehouse.userinfo(token=token)),
        }
        if "id_token" in token:  # OpenID Connect Core §12.2: optional on a refresh
            result["idToken"] = dict(await gatehouse.parse_id_token(token, nonce=None))
        return page(result)

    async def introspection(request: Request) -> Response:
        entry = held(request)
        token = entry["token"]
        result = {
            "access": await introspect(token["access_token"]),
            "refresh": await introspect(token["refresh_token"]),
        }
        if entry["previous_refresh"] is not None:  # rotated away by /refresh
            result["previousRefresh"] = await introspect(entry["previous_refresh"])
        return page(result)

    async def revoke(request: Request) -> Response:
        token = held(request)["token"]
        async with AsyncOAuth2Client(
            client_id=rp.client_id,
            client_secret=rp.client_secret,
            token_endpoint_auth_method="client_secret_basic",
        ) as client:
            answer = await client.revoke_token(
                await endpoint("revocation_endpoint"),
                token=token["access_token"],
                token_type_hint="access_token",
            )
        return page(
            {
                "status": answer.status_code,
                "userinfoStatus": await userinfo_status(token["access_token"]),
            }
        )

    async def logout(request: Request) -> Response:
        response: Response = await gatehouse.logout_redirect(
            request,
            post_logout_redirect_uri=rp.origin + AFTER_LOGOUT,
            id_token_hint=held(request)["first"]["id_token"],
        )
        return response

    async def after_logout(request: Request) -> Response:
        state = await gatehouse.validate_logout_response(request)  # the state sent is back
        entry = store.pop(request.session.pop("key"))
        token = entry["token"]
        return page(
            {
                "stateChecked": state["post_logout_redirect_uri"] == rp.origin + AFTER_LOGOUT,
                "refresh": await introspect(token["refresh_token"]),
                "refreshGrant": await refused_refresh(token["refresh_token"]),
            }
        )

    async def refused_refresh(refresh_token: str) -> str | None:
        """The refresh grant's error for this token (None: it was granted)."""
        async with AsyncOAuth2Client(
            client_id=rp.client_id, client_secret=rp.client_secret
        ) as client:
            try:
                await client.refresh_token(
                    await endpoint("token_endpoint"), refresh_token=refresh_token
                )
            except OAuthError as error:
                return str(error.error)
        return None

    async def failed(request: Request, error: Exception) -> Response:
        return page({"error": f"{type(error).__name__}: {error}"}, 500)

    return Starlette(
        routes=[
            Route("/login", login),
            Route(CALLBACK, callback),
            Route("/refresh", refresh),
            Route("/introspect", introspection),
            Route("/revoke", revoke),
            Route("/logout", logout),
            Route(AFTER_LOGOUT, after_logout),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_urlsafe(32),
                session_cookie="notebook_session",  # cookies ignore ports: not Gatehouse's
            )
        ],
        exception_handlers={Exception: failed},
    )


@contextmanager
def serving(rp: RelyingParty) -> Iterator[None]:
    """The app on its origin's port of 127.0.0.1, in a thread of its own (its own loop)."""
    config = uvicorn.Config(
        build_app(rp), host="127.0.0.1", port=rp.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="relying-party", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the relying party did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
