"""Short-lived JWT access tokens: issue and verify.

Verification pins the algorithm to the key named by ``kid``, requires issuer,
audience and every claim we rely on, checks the token's type so no other kind of
token passes as an access token, and reads time from the injected clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.core.clock import Clock
from domain.core.errors import DomainError
from domain.core.settings import Settings
from domain.tokens.keys import KeySet

ACCESS_TYP = "at+jwt"
MAX_TOKEN_LENGTH = 4096
_REQUIRED = ["iss", "aud", "sub", "sid", "jti", "iat", "exp", "role", "typ"]


class InvalidAccessToken(DomainError):  # noqa: N818 - named for what it is
    code = "UNAUTHENTICATED"
    status_code = 401
    default_message = "The access token is invalid or has expired."

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__()
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessClaims:
    sub: str
    sid: str
    jti: str
    role: str
    iat: datetime
    exp: datetime


class AccessTokenService:
    def __init__(self, keys: KeySet, settings: Settings, clock: Clock) -> None:
        self.keys = keys
        self._clock = clock
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._leeway = settings.jwt_leeway_seconds

    def issue(self, user_id: str, session_id: str, role: str) -> tuple[str, AccessClaims]:
        key = self.keys.active
        assert key.private_key is not None  # KeySet refuses a verify-only active key
        now = self._clock.now().replace(microsecond=0)
        claims = AccessClaims(
            sub=user_id,
            sid=session_id,
            jti=uuid.uuid4().hex,
            role=role,
            iat=now,
            exp=now + self._ttl,
        )
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.sub,
            "sid": claims.sid,
            "jti": claims.jti,
            "role": claims.role,
            "typ": "access",
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(claims.exp.timestamp()),
        }
        token = jwt.encode(
            payload,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, "typ": ACCESS_TYP},
        )
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        """Raises: InvalidAccessToken (with a ``reason`` for logs, never for clients)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidAccessToken("malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken("malformed") from exc
        kid = header.get("kid")
        key = self.keys.by_kid(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidAccessToken("unknown kid")
        if header.get("typ") != ACCESS_TYP or header.get("alg") != key.algorithm:
            raise InvalidAccessToken("wrong header")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                # Time is checked below against our clock, not the machine's.
                options={
                    "require": _REQUIRED,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(type(exc).__name__) from exc
        if payload.get("typ") != "access":
            raise InvalidAccessToken("wrong type")
        now = self._clock.now().timestamp()
        try:
            exp, iat = float(payload["exp"]), float(payload["iat"])
            nbf = float(payload.get("nbf", iat))
        except (TypeError, ValueError) as exc:
            raise InvalidAccessToken("bad time claims") from exc
        if exp + self._leeway <= now:
            raise InvalidAccessToken("expired")
        if nbf - self._leeway > now or iat - self._leeway > now:
            raise InvalidAccessToken("not yet valid")
        fields = (payload["sub"], payload["sid"], payload["jti"], payload["role"])
        if not all(isinstance(value, str) and value for value in fields):
            raise InvalidAccessToken("bad claims")
        return AccessClaims(
            sub=payload["sub"],
            sid=payload["sid"],
            jti=payload["jti"],
            role=payload["role"],
            iat=datetime.fromtimestamp(iat, UTC),
            exp=datetime.fromtimestamp(exp, UTC),
        )
