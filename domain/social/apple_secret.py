"""Apple's client secret: a short-lived ES256 JWT signed with the team's private key
(Sign in with Apple, "Creating a client secret"), made for each token request."""

from __future__ import annotations

from datetime import datetime

from joserfc import jwt
from joserfc.jwk import ECKey

from domain.social.presets import Provider

APPLE_AUDIENCE = "https://appleid.apple.com"
LIFETIME_SECONDS = 300  # Apple allows up to six months; each request makes its own


def apple_client_secret(provider: Provider, now: datetime) -> str:
    settings = provider.settings
    assert settings.apple_private_key is not None
    assert settings.apple_key_id
    assert settings.apple_team_id
    key = ECKey.import_key(settings.apple_private_key.get_secret_value())
    issued = int(now.timestamp())
    return jwt.encode(
        {"alg": "ES256", "kid": settings.apple_key_id},
        {
            "iss": settings.apple_team_id,
            "iat": issued,
            "exp": issued + LIFETIME_SECONDS,
            "aud": APPLE_AUDIENCE,
            "sub": settings.client_id,
        },
        key,
    )
