"""ID token validation (OpenID Connect Core §3.1.3.7): the signature by the provider's
key named in ``kid`` (joserfc; the key set refetched once when the id is unknown: the
provider rotated its keys), then ``iss`` by the provider's rule, ``aud`` holding our
client id, ``azp`` when there are several audiences, ``exp`` and ``iat`` against the
injected clock, and the ``nonce`` this sign-in sent."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from domain.social.metadata import ProviderMetadata
from domain.social.presets import Provider

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
LEEWAY_SECONDS = 60


class InvalidIdTokenError(Exception):
    """The ID token is not this provider's answer to this sign-in; the message says
    which check failed (logged and audited, never shown)."""


async def validate_id_token(
    token: str,
    provider: Provider,
    metadata: ProviderMetadata,
    *,
    nonce: str,
    now: datetime,
) -> dict[str, Any]:
    """Raises: InvalidIdTokenError, ProviderUnavailableError (the key set could not be read)."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as error:
        raise InvalidIdTokenError("malformed") from error
    kid = header.get("kid")
    keys = await metadata.keys(provider, kid if isinstance(kid, str) else None)
    try:
        claims: dict[str, Any] = jwt.decode(token, keys, algorithms=ALGORITHMS).claims
    except (JoseError, ValueError) as error:
        raise InvalidIdTokenError(f"signature: {type(error).__name__}") from error
    check_claims(claims, provider, nonce=nonce, now=now)
    return claims


def check_claims(claims: dict[str, Any], provider: Provider, *, nonce: str, now: datetime) -> None:
    """The claim checks on their own (tested as pure logic). Raises: InvalidIdTokenError."""
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not provider.accepts_issuer(issuer, claims):
        raise InvalidIdTokenError("iss")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or provider.client_id not in audiences:
        raise InvalidIdTokenError("aud")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != provider.client_id:
        raise InvalidIdTokenError("azp")
    moment = now.timestamp()
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or moment > expires + LEEWAY_SECONDS:
        raise InvalidIdTokenError("exp")
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or issued > moment + LEEWAY_SECONDS:
        raise InvalidIdTokenError("iat")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise InvalidIdTokenError("nonce")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidIdTokenError("sub")
