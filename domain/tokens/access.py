"""Short-lived JWT access tokens: issue and verify.

Verification pins the algorithm to the key named by ``kid``, requires issuer,
audience and every claim we rely on, checks the token's type so no other kind of
token passes as an access token, and reads time from the injected clock.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.types import Options

from domain.core.clock import Clock
from domain.core.errors import CoreErrorCode, UnauthenticatedError
from domain.core.settings import Settings
from domain.core.verified_tokens import VerifiedTokens
from domain.tokens.delegation import Delegation, MalformedDelegation, delegation_of
from domain.tokens.keys import KeySet
from domain.tokens.methods import PASSWORD, is_multi_factor, legacy_methods

ACCESS_TYP = "at+jwt"  # header "typ", RFC 9068 §2.1
ACCESS_TOKEN_TYPE = "access"  # payload "typ": tells our token kinds apart
MAX_TOKEN_LENGTH = 4096

# Three non-empty base64url segments: checked in C before any decoding.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "jti", "iat", "exp", "role", "typ"]
# We only ever write these; anything else (jku, jwk, x5u, crit, b64, ...) is not ours.
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
# PyJWT reads the wall clock for exp/nbf/iat and cannot be given another, so it
# checks signature, issuer and audience, and time is checked against our clock.
_DECODE_OPTIONS: Options = {
    "require": _REQUIRED_CLAIMS,
    "strict_aud": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
}
_JWT = jwt.PyJWT(options=_DECODE_OPTIONS)
# Tokens whose signature, header and claims checked out, by their exact text. An app
# sends the same token on every request for its lifetime, and the signature check is
# a tenth of an authenticated request. Time is checked again on every use, and a
# token whose key has been retired is verified anew (and refused).
VERIFIED_CACHE_SIZE = 4096


class InvalidAccessToken(UnauthenticatedError):  # noqa: N818 - named for what it is
    """Any refused access token. The message never says why; ``reason`` is for logs."""

    code = CoreErrorCode.UNAUTHENTICATED
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
    # RFC 8176 authentication methods of the session's sign-in (domain/tokens/methods.py).
    amr: tuple[str, ...] = (PASSWORD,)
    # OIDC ``auth_time``: the session's last sign-in or ``reauthenticate``, kept across
    # refreshes. None only in tokens signed before the claim existed.
    auth_time: datetime | None = None
    # RFC 8693 ``act``: an administrator impersonating ``sub`` (domain/tokens/delegation.py).
    act: Delegation | None = None

    @property
    def mfa(self) -> bool:
        return is_multi_factor(self.amr)


def _unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, to pick the key. Not jwt.get_unverified_header(): that one
    decodes all three segments char by char in Python, and decode() does it again."""
    if _COMPACT_JWS.fullmatch(token) is None:
        raise InvalidAccessToken("malformed")
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError) as exc:  # binascii, UTF-8 and JSON errors
        raise InvalidAccessToken("malformed") from exc
    if not isinstance(header, dict):
        raise InvalidAccessToken("malformed")
    return header


def _numeric_date(payload: dict[str, Any], name: str) -> int:
    value = payload[name]
    # We write whole seconds; bool is an int in Python, and PyJWT would accept "123".
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidAccessToken(f"{name} is not an integer")
    return value


def _text_claim(payload: dict[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise InvalidAccessToken(f"{name} is not a non-empty string")
    return value


def _auth_time_claim(payload: dict[str, Any]) -> datetime | None:
    """The ``auth_time`` claim; absent in tokens signed before it existed."""
    if "auth_time" not in payload:
        return None
    try:
        return datetime.fromtimestamp(_numeric_date(payload, "auth_time"), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidAccessToken("auth_time out of range") from exc


def _methods_claim(payload: dict[str, Any]) -> tuple[str, ...]:
    """The ``amr`` claim; absent in tokens signed before it existed, which were password-only."""
    value = payload.get("amr", ["pwd"])
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise InvalidAccessToken("amr is not a list of strings")
    return tuple(value)


def _whole_seconds(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


class AccessTokenService:
    def __init__(self, keys: KeySet, settings: Settings, clock: Clock) -> None:
        self.keys = keys
        self._clock = clock
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._leeway = settings.jwt_leeway_seconds
        self._verified = VerifiedTokens(VERIFIED_CACHE_SIZE)

    def issue(
        self,
        user_id: str,
        session_id: str,
        role: str,
        *,
        mfa: bool = False,
        auth_time: datetime | None = None,
        amr: Sequence[str] | None = None,
        act: Delegation | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[str, AccessClaims]:
        """Sign a token with the active key; the claims are returned for the caller's use.

        ``auth_time`` is when the session last proved who it is (now, if not given);
        ``amr`` how it did (without it: a password, and a code when ``mfa``); ``act`` who
        acts as the user (an impersonation); ``expires_at`` an earlier end than the usual
        lifetime (never a later one: revocation records live only that long).
        """
        key = self.keys.active
        assert key.private_key is not None  # KeySet refuses a verify-only active key
        # Whole seconds, so the returned claims equal what verify() reads back.
        now = self._clock.now().astimezone(UTC).replace(microsecond=0)
        expiry = now + self._ttl
        if expires_at is not None:
            expiry = min(expiry, _whole_seconds(expires_at))
        claims = AccessClaims(
            sub=user_id,
            sid=session_id,
            jti=secrets.token_urlsafe(16),
            role=role,
            iat=now,
            exp=expiry,
            amr=tuple(amr) if amr is not None else legacy_methods(mfa),
            auth_time=now if auth_time is None else _whole_seconds(auth_time),
            act=act,
        )
        assert claims.auth_time is not None
        issued_at = int(now.timestamp())
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.sub,
            "sid": claims.sid,
            "jti": claims.jti,
            "role": claims.role,
            "amr": list(claims.amr),
            "auth_time": int(claims.auth_time.timestamp()),
            "typ": ACCESS_TOKEN_TYPE,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": int(claims.exp.timestamp()),
            **(act.claims() if act is not None else {}),
        }
        token = _JWT.encode(
            payload,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, "typ": ACCESS_TYP},
        )
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token.

        Raises:
            InvalidAccessToken: for any fault (with a ``reason`` for logs, never for clients).
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidAccessToken("malformed")
        cached = self._verified.get(token)
        if cached is not None and self.keys.by_kid(cached[0]) is not None:
            return self._check_time(cached[1])
        header = _unverified_header(token)
        if not header.keys() <= _HEADER_MEMBERS:
            raise InvalidAccessToken("unexpected header member")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidAccessToken("no kid")
        key = self.keys.by_kid(kid)
        if key is None:
            raise InvalidAccessToken("unknown kid")
        if header.get("alg") != key.algorithm:
            raise InvalidAccessToken("algorithm does not match the key")
        if header.get("typ") != ACCESS_TYP:
            raise InvalidAccessToken("wrong header typ")
        try:
            payload = _JWT.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(type(exc).__name__) from exc
        if payload["typ"] != ACCESS_TOKEN_TYPE:
            raise InvalidAccessToken("wrong token type")
        claims = self._check_time(payload)
        self._verified.remember(token, kid, payload)
        return claims

    def _check_time(self, payload: dict[str, Any]) -> AccessClaims:
        now = self._clock.now().timestamp()
        exp = _numeric_date(payload, "exp")
        iat = _numeric_date(payload, "iat")
        nbf = _numeric_date(payload, "nbf") if "nbf" in payload else iat
        # Same comparisons as PyJWT's own checks, against the injected clock.
        if exp <= now - self._leeway:
            raise InvalidAccessToken("expired")
        if nbf > now + self._leeway or iat > now + self._leeway:
            raise InvalidAccessToken("not yet valid")
        try:
            issued_at = datetime.fromtimestamp(iat, UTC)
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidAccessToken("time out of range") from exc
        try:
            act = delegation_of(payload)
        except MalformedDelegation as exc:
            raise InvalidAccessToken(str(exc)) from exc
        return AccessClaims(
            sub=_text_claim(payload, "sub"),
            sid=_text_claim(payload, "sid"),
            jti=_text_claim(payload, "jti"),
            role=_text_claim(payload, "role"),
            iat=issued_at,
            exp=expires_at,
            amr=_methods_claim(payload),
            auth_time=_auth_time_claim(payload),
            act=act,
        )
