"""Tokens presented to the provider's revocation, introspection and userinfo endpoints.

Access tokens are our RS256 JWTs (checked locally, the verification memoised per token);
refresh tokens are opaque records in Redis. A token is active only while its signature,
lifetime, grant, session and client all are.

Introspection is the hot path of every resource server, and its questions are known from
the request alone: the clients the credentials name and, for an access token, the client
it was issued to and its revocation records. Those are read in one Redis round trip, then
authlib runs inline with the answers (domain/oauth/answered.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from domain.core.clock import Clock
from domain.oauth.answered import Question
from domain.oauth.clients import OAuthClients
from domain.oauth.endpoints import TOKEN_QUESTION, TokenView, access_view
from domain.oauth.server import CLIENT_QUESTION, HttpRequest, presented_client_ids
from domain.oauth.store import OAuthStore, Subject
from domain.oauth.tokens import OAuthTokens
from domain.sessions.revocation import SessionRevocations

LiveSubject = Callable[[Subject], Awaitable[Subject | None]]


class PresentedTokens:
    def __init__(
        self,
        clock: Clock,
        clients: OAuthClients,
        store: OAuthStore,
        tokens: OAuthTokens,
        revocations: SessionRevocations,
        live_subject: LiveSubject,
    ) -> None:
        self._clock = clock
        self._clients = clients
        self._store = store
        self._tokens = tokens
        self._revocations = revocations
        self._live_subject = live_subject

    async def lookup(self, raw: str, hint: str | None) -> TokenView | None:
        """The token as the endpoints see it, or None for one that is not ours."""
        if not isinstance(raw, str) or not raw:
            return None
        if looks_like_jwt(raw):
            claims = self._tokens.verify_access(raw)
            if claims is None:
                return None
            return access_view(raw, claims, await self._access_active(claims))
        record = await self._store.peek_refresh(raw)
        if record is None:
            return None
        active = (
            record.expires_at > int(self._clock.now().timestamp())
            and await self._live_subject(record.subject) is not None
            and await self._clients.active(record.client_id) is not None
        )
        return TokenView(
            "refresh_token",
            raw,
            record.client_id,
            record.scope,
            record.subject.user_id,
            record.expires_at,
            0,
            active,
            record.grant_id,
        )

    async def introspection_answers(self, request: HttpRequest) -> dict[Question, Any]:
        """What authlib's introspection endpoint will ask of this request, answered."""
        form = dict(reversed(request.params))  # the first value of each, as authlib reads
        token, hint = form.get("token"), form.get("token_type_hint")
        claims = self._tokens.verify_access(token) if looks_like_jwt(token) else None
        client_ids = presented_client_ids(request)
        wanted = list(dict.fromkeys([*client_ids, *([claims["client_id"]] if claims else [])]))
        revocation = self._revocation_keys(claims) if claims else []
        clients, revoked = await self._clients.active_many(wanted, exists=revocation)
        table: dict[Question, Any] = {
            (CLIENT_QUESTION, (client_id,)): clients[client_id] for client_id in client_ids
        }
        # Only a confidential client costs a token lookup (authlib refuses the rest).
        confidential = any(not client.is_public for client in table.values() if client)
        if not confidential or not isinstance(token, str) or not token:
            return table
        view: TokenView | None = None
        if claims is not None:
            if revoked is None:
                revoked = await self._store.is_revoked_any(revocation)
            active = not revoked and clients[claims["client_id"]] is not None
            view = access_view(token, claims, active)
        elif not looks_like_jwt(token):
            view = await self.lookup(token, hint)
        table[(TOKEN_QUESTION, (token, hint))] = view
        return table

    async def revoke(self, view: TokenView) -> None:
        if view.kind == "refresh_token":
            await self._store.drop_refresh(view.raw)
            if view.grant_id:
                await self._store.revoke_grant(view.grant_id)
        elif view.jti:
            ttl = view.exp - int(self._clock.now().timestamp()) + 60
            await self._store.revoke_access(view.jti, ttl)

    def _revocation_keys(self, claims: dict[str, Any]) -> list[str]:
        """The records whose existence makes the access token inactive: its grant, its
        ``jti``, and the Gatehouse session it was issued under."""
        sid = claims.get("sid")
        session = (self._revocations.key(sid),) if isinstance(sid, str) else ()
        return self._store.revocation_keys(
            grant_id=claims.get("gid"), jti=claims.get("jti"), also=session
        )

    async def _access_active(self, claims: dict[str, Any]) -> bool:
        if await self._store.is_revoked_any(self._revocation_keys(claims)):
            return False
        return await self._clients.active(claims["client_id"]) is not None


def looks_like_jwt(token: object) -> TypeGuard[str]:
    """Our access tokens are JWTs; refresh tokens are opaque (no dots)."""
    return isinstance(token, str) and token.count(".") == 2
