"""The provider's REST endpoints: discovery, token, revocation, introspection, userinfo
and the authorization endpoint (which hands over to the sign-in and consent pages)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from domain.core.settings import Settings
from domain.oauth.device import DEVICE_AUTHORIZATION_PATH
from domain.oauth.documents import GrantType
from domain.oauth.outcomes import AuthorizeOutcome, ErrorPage, NeedConsent, NeedSignIn, Redirect
from domain.oauth.server import HttpRequest
from domain.oauth.tokens import ACR_VALUES
from resolvers.http.oauth import cors, headless, pages
from resolvers.http.oauth.adapter import oauth_request, state_of, to_response

DISCOVERY_PATH = "/.well-known/openid-configuration"
AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = cors.TOKEN_PATH
USERINFO_PATH = cors.USERINFO_PATH
REVOKE_PATH = cors.REVOKE_PATH
INTROSPECT_PATH = "/oauth2/introspect"
JWKS_PATH = "/.well-known/jwks.json"
END_SESSION_PATH = "/oauth2/logout"
DEVICE_PATH = DEVICE_AUTHORIZATION_PATH


def discovery_document(settings: Settings, id_token_algorithms: list[str]) -> dict[str, Any]:
    base = settings.public_url.rstrip("/")
    return {
        "issuer": base,
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "userinfo_endpoint": base + USERINFO_PATH,
        "revocation_endpoint": base + REVOKE_PATH,
        "introspection_endpoint": base + INTROSPECT_PATH,
        "jwks_uri": base + JWKS_PATH,
        "end_session_endpoint": base + END_SESSION_PATH,
        "device_authorization_endpoint": base + DEVICE_AUTHORIZATION_PATH,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [grant.value for grant in GrantType],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algorithms,
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "acr",
            "at_hash",
            "azp",
            "sid",
            "email",
            "email_verified",
            "name",
        ],
        "acr_values_supported": ACR_VALUES,
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        # RFC 9207: the issuer in the authorization response, against mix-up.
        "authorization_response_iss_parameter_supported": True,
    }


async def discovery(request: Request) -> Response:
    state = state_of(request)
    return JSONResponse(
        {
            **discovery_document(state.settings, state.services.oauth.tokens.keys.algorithms),
            # The languages the built-in pages speak (``ui_locales``, catalogue.py).
            "ui_locales_supported": state.page_text.languages,
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


async def token(request: Request) -> Response:
    provider = state_of(request).services.oauth
    given = await oauth_request(request)
    response = to_response(await provider.token(given))
    await cors.allow_client_origin(request, response, _client_id(given))
    return response


async def revoke(request: Request) -> Response:
    provider = state_of(request).services.oauth
    given = await oauth_request(request)
    response = to_response(await provider.revoke(given))
    await cors.allow_client_origin(request, response, _client_id(given))
    return response


def _client_id(given: HttpRequest) -> str | None:
    """The client a browser app names in the form (public clients authenticate so)."""
    return next((value for name, value in given.params if name == "client_id"), None)


async def introspect(request: Request) -> Response:
    provider = state_of(request).services.oauth
    return to_response(await provider.introspect(await oauth_request(request)))


async def device_authorization(request: Request) -> Response:
    devices = state_of(request).services.oauth_devices
    return to_response(await devices.device_authorization(await oauth_request(request)))


async def userinfo(request: Request) -> Response:
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    found = None
    if scheme.lower() == "bearer" and bearer:
        found = await state_of(request).services.oauth.userinfo(bearer.strip())
    if found is None:
        refused = JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        await cors.allow_public_origin(request, refused)
        return refused
    claims, client_id = found
    response = JSONResponse(claims, headers={"Cache-Control": "no-store"})
    await cors.allow_client_origin(request, response, client_id)
    return response


async def authorize(request: Request) -> Response:
    """Validate the request with authlib, then: back to the client (a code or an
    error), or on to the sign-in or consent page, or an error page when the client or
    its redirect URI cannot be trusted."""
    provider = state_of(request).services.oauth
    given = await oauth_request(request)
    browser = request.cookies.get(pages.COOKIE)
    try:
        returning = await headless.returning_browser(request, given)
    except headless.ExpiredReturnError:
        return pages.expired_page(request)
    if returning is not None:
        given, browser = returning
    response = await _authorize_response(request, await provider.authorize(given, browser))
    if returning is not None:
        pages.set_browser_cookie(request, response, browser or "")
    return response


async def _authorize_response(request: Request, outcome: AuthorizeOutcome) -> Response:
    headless_ui = headless.to_login_ui(request, outcome)
    if headless_ui is not None:
        return headless_ui
    if isinstance(outcome, Redirect):
        return RedirectResponse(outcome.location, status_code=302)
    if isinstance(outcome, NeedSignIn):
        return RedirectResponse(
            f"{pages.LOGIN_PATH}?{urlencode({'challenge': outcome.challenge.id})}", status_code=302
        )
    if isinstance(outcome, NeedConsent):
        return RedirectResponse(
            f"{pages.CONSENT_PATH}?{urlencode({'challenge': outcome.challenge.id})}",
            status_code=302,
        )
    assert isinstance(outcome, ErrorPage)
    return pages.error_page(request, outcome.message)
