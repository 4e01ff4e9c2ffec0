"""Who is calling: worked out once per request from the bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.core.roles import Role
from domain.sessions.revocation import SessionRevocations
from domain.tokens.access import AccessTokenService, InvalidAccessToken
from domain.tokens.delegation import Delegation


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    session_id: str
    role: Role
    token_id: str
    # The session was signed in with a second factor.
    mfa: bool = False
    # When the access token stops being valid: a long-lived WebSocket ends then.
    expires_at: datetime | None = None
    # An administrator impersonating ``user_id`` (the token's ``act`` claim): the
    # session lives only while theirs does (``parent_session_id``).
    impersonation: Delegation | None = None

    @property
    def parent_session_id(self) -> str | None:
        return self.impersonation.actor_session_id if self.impersonation else None


class Authenticator:
    def __init__(self, access_tokens: AccessTokenService, revocations: SessionRevocations) -> None:
        self._access = access_tokens
        self._revocations = revocations

    async def authenticate(self, token: str) -> Principal:
        """Verify the access token and refuse it if its session has ended.

        Raises:
            InvalidAccessToken: bad signature, expired, wrong audience, revoked session, ...
        """
        principal = self.claimed_principal(token)
        if await self._revocations.is_revoked(principal.session_id):
            raise InvalidAccessToken(reason="session revoked")
        parent = principal.parent_session_id
        if parent is not None and await self._revocations.is_revoked(parent):
            raise InvalidAccessToken(reason="impersonating session ended")
        return principal

    def claimed_principal(self, token: str) -> Principal:
        """Who the token says is calling: verified, but not yet checked for revocation.

        Raises:
            InvalidAccessToken: bad signature, expired, wrong audience, unknown role, ...
        """
        claims = self._access.verify(token)
        try:
            role = Role(claims.role)
        except ValueError as exc:
            raise InvalidAccessToken(reason="unknown role") from exc
        return Principal(
            user_id=claims.sub,
            session_id=claims.sid,
            role=role,
            token_id=claims.jti,
            mfa=claims.mfa,
            expires_at=claims.exp,
            impersonation=claims.act,
        )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
