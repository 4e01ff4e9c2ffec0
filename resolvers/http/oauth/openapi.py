"""The provider's routes in ``/api/openapi.json`` (resolvers/http/openapi.py merges them)."""

from __future__ import annotations

from typing import Any

_OBJECT = {"type": "object"}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


_TEXT = {"type": "string"}
_LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")
_CLIENT_ERRORS = {
    "400": _json(_ERROR, "Invalid request."),
    "401": _json(_ERROR, "Client authentication failed."),
}


def oauth_paths() -> dict[str, Any]:
    token_param = {
        "token": _TEXT,
        "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
    }
    return {
        "/.well-known/openid-configuration": {
            "get": {
                "operationId": "openidConfiguration",
                "summary": "OpenID Connect discovery: endpoints, algorithms, scopes.",
                "responses": {"200": _json(_OBJECT, "The provider's metadata.")},
            }
        },
        "/.well-known/jwks.json": {
            "get": {
                "operationId": "jwks",
                "summary": "Public signing keys: EdDSA/ES256 first-party, RS256 for OIDC.",
                "responses": {"200": _json(_OBJECT, "A JWK Set.")},
            }
        },
        "/oauth2/authorize": {
            "get": {
                "operationId": "authorize",
                "summary": "Authorization endpoint (code flow with PKCE S256).",
                "parameters": [
                    {"name": name, "in": "query", "required": False, "schema": _TEXT}
                    for name in (
                        "response_type",
                        "client_id",
                        "redirect_uri",
                        "scope",
                        "state",
                        "nonce",
                        "code_challenge",
                        "code_challenge_method",
                        "prompt",
                        "max_age",
                        "login_hint",
                    )
                ],
                "responses": {
                    "302": {"description": "To the client, or to the sign-in or consent page."},
                    "400": {
                        "description": "Unknown client or redirect URI: an error page.",
                        "content": {"text/html": {"schema": _TEXT}},
                    },
                },
            }
        },
        "/oauth2/token": {
            "post": {
                "operationId": "token",
                "summary": "Token endpoint: authorization_code, refresh_token, client_credentials, "
                "the device code (RFC 8628).",
                "requestBody": _form(
                    {
                        name: _TEXT
                        for name in (
                            "grant_type",
                            "code",
                            "redirect_uri",
                            "code_verifier",
                            "refresh_token",
                            "device_code",
                            "scope",
                            "client_id",
                            "client_secret",
                        )
                    },
                    ["grant_type"],
                ),
                "responses": {"200": _json(_OBJECT, "Tokens."), **_CLIENT_ERRORS},
            }
        },
        "/oauth2/device_authorization": {
            "post": {
                "operationId": "deviceAuthorization",
                "summary": "RFC 8628 device authorization: a device code to poll the token "
                "endpoint with, and a user code for the person to enter at verification_uri.",
                "requestBody": _form(
                    {name: _TEXT for name in ("client_id", "client_secret", "scope")}, []
                ),
                "responses": {
                    "200": _json(_OBJECT, "device_code, user_code, verification_uri, …"),
                    **_CLIENT_ERRORS,
                },
            }
        },
        "/oauth2/userinfo": {
            # OIDC Core §5.3.1: GET and POST, the access token as a bearer token.
            method: {
                "operationId": "userinfo" if method == "get" else "userinfoPost",
                "summary": "The signed-in person's claims, for an access token with `openid`.",
                "responses": {
                    "200": _json(_OBJECT, "Claims."),
                    "401": _json(_ERROR, "Invalid token."),
                },
            }
            for method in ("get", "post")
        },
        "/oauth2/revoke": {
            "post": {
                "operationId": "revoke",
                "summary": "RFC 7009 token revocation.",
                "requestBody": _form(token_param, ["token"]),
                "responses": {"200": _json(_OBJECT, "Revoked (or unknown)."), **_CLIENT_ERRORS},
            }
        },
        "/oauth2/logout": {
            method: {
                "operationId": "endSession" if method == "get" else "endSessionPost",
                "summary": "RP-initiated logout: ends the session an `id_token_hint` names, "
                "or asks the person first; back to a registered post-logout URI with `state`.",
                **(
                    {
                        "parameters": [
                            {"name": name, "in": "query", "required": False, "schema": _TEXT}
                            for name in _LOGOUT_PARAMS
                        ]
                    }
                    if method == "get"
                    else {
                        "requestBody": {
                            **_form({name: _TEXT for name in _LOGOUT_PARAMS}, []),
                            "required": False,
                        }
                    }
                ),
                "responses": {
                    "200": {
                        "description": "The confirmation or signed-out page.",
                        "content": {"text/html": {"schema": _TEXT}},
                    },
                    "303": {"description": "Back to the registered post-logout URI."},
                    "400": {
                        "description": "An unknown hint or unregistered URI: an error page.",
                        "content": {"text/html": {"schema": _TEXT}},
                    },
                },
            }
            for method in ("get", "post")
        },
        "/oauth2/introspect": {
            "post": {
                "operationId": "introspect",
                "summary": "RFC 7662 token introspection, for confidential clients.",
                "requestBody": _form(token_param, ["token"]),
                "responses": {
                    "200": _json(_OBJECT, "`active` and the token's claims."),
                    **_CLIENT_ERRORS,
                },
            }
        },
    }
