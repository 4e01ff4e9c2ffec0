"""RFC 7009 revocation and RFC 7662 introspection on authlib's endpoints.

Both take access tokens (our RS256 JWTs) and refresh tokens (opaque, in Redis). A
token is active only while its signature, lifetime, grant, session and client all are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request  # type: ignore[import-untyped]
from authlib.oauth2.rfc7009 import RevocationEndpoint  # type: ignore[import-untyped]
from authlib.oauth2.rfc7662 import IntrospectionEndpoint  # type: ignore[import-untyped]

from domain.oauth.answered import ask
from domain.oauth.server import SECRET_METHODS, ClientModel


@dataclass(slots=True)
class TokenView:
    """One presented token as the endpoints see it (authlib's TokenMixin)."""

    kind: str  # access_token | refresh_token
    raw: str
    client_id: str
    scope: str
    sub: str
    exp: int
    iat: int
    active: bool
    grant_id: str | None = None
    jti: str | None = None
    aud: str | None = None
    iss: str | None = None

    def check_client(self, client: ClientModel) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False  # decided with the clock when the view was built (``active``)

    def is_revoked(self) -> bool:
        return not self.active


def access_view(raw: str, claims: dict[str, Any], active: bool) -> TokenView:
    """One of our access tokens, its claims verified (domain/oauth/tokens.py)."""
    return TokenView(
        "access_token",
        raw,
        claims["client_id"],
        claims["scope"],
        str(claims["sub"]),
        int(claims["exp"]),
        int(claims["iat"]),
        active,
        claims.get("gid"),
        claims.get("jti"),
        str(claims.get("aud")),
        claims.get("iss"),
    )


TOKEN_QUESTION = "token"  # (raw, hint): what introspection and revocation look up
Lookup = Callable[[str, str | None], Awaitable[TokenView | None]]
Revoke = Callable[[TokenView], Awaitable[None]]


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [*SECRET_METHODS, "none"]

    def __init__(self, lookup: Lookup, revoke: Revoke) -> None:
        super().__init__()
        self._lookup = lookup
        self._revoke = revoke

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return ask(TOKEN_QUESTION, self._lookup, token_string, token_type_hint)

    def revoke_token(self, token: TokenView, request: OAuth2Request) -> None:
        ask("revoke", self._revoke, token)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = SECRET_METHODS

    def __init__(self, lookup: Lookup) -> None:
        super().__init__()
        self._lookup = lookup

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return ask(TOKEN_QUESTION, self._lookup, token_string, token_type_hint)

    def check_permission(
        self, token: TokenView, client: ClientModel, request: OAuth2Request
    ) -> bool:
        # Resource servers are confidential clients (authenticated above); any of them
        # may ask, as a JWT's claims are no secret to whoever holds it.
        return not client.client.is_public

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "scope": token.scope,
            "sub": token.sub,
            "exp": token.exp,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
        }
        if token.iat:  # a refresh record keeps no issue time: say nothing, not 1970
            payload["iat"] = token.iat
        if token.aud:
            payload["aud"] = token.aud
        if token.iss:
            payload["iss"] = token.iss
        if token.jti:
            payload["jti"] = token.jti
        return payload
