"""OAuth access tokens (RFC 9068 JWTs, RS256) and OpenID Connect ID tokens (RS256, or the
client's ES256 or EdDSA).

Time comes from the injected clock. An access token names its resource (``aud``), its
``scope`` and ``client_id``; for a person it also carries the Gatehouse session
(``sid``) and the grant (``gid``), so ending either makes it inactive.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from authlib.oidc.core.util import create_half_hash  # type: ignore[import-untyped]

from domain.core.clock import Clock
from domain.core.verified_tokens import VerifiedTokens
from domain.oauth.documents import OAuthClient
from domain.oauth.signing import RS256, OidcKeys
from domain.oauth.store import Subject
from domain.tokens.methods import is_multi_factor

ACCESS_TYP = "at+jwt"
# The ID token's ``acr`` (OIDC Core §2): how strongly the sign-in was proved, derived from
# its ``amr`` (RFC 8176) by the rule first-party sessions use for "multi-factor"
# (``is_multi_factor``: ``mfa`` among the methods, or a password and a one-time code).
ACR_MULTI_FACTOR = "urn:gatehouse:acr:mfa"
ACR_SINGLE_FACTOR = "urn:gatehouse:acr:sfa"
ACR_VALUES = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR]
ID_TOKEN_TTL_SECONDS = 3600
MAX_TOKEN_LENGTH = 8192
_JWT = jwt.PyJWT(
    options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False}
)


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    claims: dict[str, Any]


def at_hash(access_token: str, algorithm: str = RS256) -> str:
    """OIDC Core §3.1.3.6: the left half of the token's hash under the ID token's
    algorithm (SHA-256 for RS256 and ES256, SHA-512 for EdDSA), base64url; authlib's,
    which relying parties on authlib check it with."""
    half: bytes = create_half_hash(access_token, algorithm)
    return half.decode()


class OAuthTokens:
    def __init__(self, keys: OidcKeys, clock: Clock, issuer: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self._clock = clock
        # Resource servers introspect the same access token on every call they serve.
        self._verified = VerifiedTokens()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def _sign(self, payload: dict[str, Any], typ: str, algorithm: str = RS256) -> str:
        key = self.keys.signer(algorithm) or self.keys.active
        algorithm = algorithm if key is not self.keys.active else RS256
        private = key.private_key
        assert private is not None  # signers are loaded from private keys only
        return _JWT.encode(
            payload, private, algorithm=algorithm, headers={"kid": key.kid, "typ": typ}
        )

    def access_token(self, client: OAuthClient, subject: Subject | None, scope: str) -> AccessToken:
        now = self._now()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client.audience or self.issuer,
            "sub": subject.user_id if subject else client.id,
            "client_id": client.id,
            "scope": scope,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "nbf": now,
            "exp": now + client.access_token_ttl_seconds,
        }
        if subject is not None:
            claims.update(sid=subject.sid, gid=subject.grant_id, auth_time=subject.auth_time)
        return AccessToken(self._sign(claims, ACCESS_TYP), claims)

    def id_token(
        self,
        client: OAuthClient,
        subject: Subject,
        scope: str,
        *,
        nonce: str | None,
        access_token: str | None,
    ) -> str:
        now = self._now()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject.user_id,
            "aud": client.id,
            "azp": client.id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL_SECONDS,
            "auth_time": subject.auth_time,
            "amr": subject.amr,
            "acr": acr_of(subject.amr),
            "sid": subject.sid,
            **user_claims(subject, scope),
        }
        algorithm = client.id_token_signed_response_alg
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["at_hash"] = at_hash(access_token, algorithm)
        return self._sign(claims, "JWT", algorithm)

    def verify_access(self, token: str) -> dict[str, Any] | None:
        """The claims of a well-signed, unexpired access token of ours, else None.
        Revocation is the caller's next check (domain/oauth/provider.py). The claims may
        be shared with other calls for the same token: read them, never change them."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        known = self._verified.get(token)
        if known is not None and self.keys.by_kid(known[0]) is not None:
            claims = known[1]
        else:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                return None
            kid = str(header.get("kid", ""))
            key = self.keys.by_kid(kid)
            if key is None or header.get("alg") != "RS256" or header.get("typ") != ACCESS_TYP:
                return None
            try:
                claims = _JWT.decode(
                    token, key.public_key, algorithms=["RS256"], issuer=self.issuer
                )
            except jwt.PyJWTError:
                return None
            self._verified.remember(token, kid, claims)
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        now = self._now()
        if not isinstance(exp, int) or exp <= now or not isinstance(nbf, int) or nbf > now + 30:
            return None
        if not isinstance(claims.get("client_id"), str) or not isinstance(claims.get("scope"), str):
            return None
        return claims

    def verify_id_token_hint(self, token: str) -> dict[str, Any] | None:
        """The claims of an ID token we issued (signature by one of our keys, ``iss``,
        ``aud`` and ``sid`` present), else None. Its lifetime is not checked: RP-Initiated
        Logout §2 asks the provider to accept a hint whose ``exp`` has passed."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        found = self.keys.verifier(str(header.get("kid", "")))
        if found is None or header.get("alg") != found[0] or header.get("typ") != "JWT":
            return None
        try:
            claims: dict[str, Any] = _JWT.decode(
                token, found[1], algorithms=[found[0]], issuer=self.issuer
            )
        except jwt.PyJWTError:
            return None
        if not all(isinstance(claims.get(name), str) for name in ("aud", "sid", "sub")):
            return None
        return claims


def acr_of(amr: list[str]) -> str:
    return ACR_MULTI_FACTOR if is_multi_factor(amr) else ACR_SINGLE_FACTOR


def user_claims(subject: Subject, scope: str) -> dict[str, Any]:
    """The standard claims each scope releases (OIDC Core §5.4)."""
    scopes = set(scope.split())
    claims: dict[str, Any] = {}
    if "email" in scopes:
        claims.update(email=subject.email, email_verified=subject.email_verified)
    if "profile" in scopes and subject.name:
        claims["name"] = subject.name
    return claims
