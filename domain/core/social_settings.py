"""The settings of one social sign-in provider (domain/social/ turns them into a provider).

Kept beside the settings module because settings may import no slice; the presets and
what each field means for them live in ``domain/social/presets.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Preset = Literal["oidc", "google", "microsoft", "github", "gitlab", "apple"]


class SocialProviderSettings(BaseModel):
    """``GATEHOUSE_SOCIAL_PROVIDERS`` is a JSON object of these, keyed by provider name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: Preset = "oidc"
    enabled: bool = True
    display_name: str | None = None
    # The OpenID Connect issuer (discovery at <issuer>/.well-known/openid-configuration);
    # the presets fill it in (Microsoft: from ``tenant``; GitLab: gitlab.com unless set).
    issuer: str | None = None
    client_id: str
    # Never logged (SecretStr). Apple has none: its client secret is a JWT signed with
    # ``apple_private_key`` for each token request.
    client_secret: SecretStr | None = None
    scopes: list[str] | None = None
    # Only emails at these domains may sign in through this provider (empty: any).
    allowed_domains: list[str] = Field(default_factory=list)
    # The provider's "mfa" in ``amr`` counts as this deployment's second factor.
    trust_provider_mfa: bool = False
    # Microsoft: "common", "organizations", "consumers" or one tenant's id.
    tenant: str | None = None
    # Apple: the team, the key id and the private key (PEM) that sign the client secret.
    apple_team_id: str | None = None
    apple_key_id: str | None = None
    apple_private_key: SecretStr | None = None
