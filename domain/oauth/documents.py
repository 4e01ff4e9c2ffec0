"""OAuth clients (relying parties) and the consents users gave them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class ClientType(StrEnum):
    # Holds a secret (a server-side app); authenticates at the token endpoint.
    CONFIDENTIAL = "confidential"
    # Cannot keep a secret (SPA, mobile, CLI): PKCE S256 is required instead.
    PUBLIC = "public"


class GrantType(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"
    # RFC 8628: devices without a browser (CLIs, TVs); the person approves elsewhere.
    DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


class OAuthClient(Document):
    """A registered relying party; ``_id`` is the ``client_id``."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    name: str
    client_type: ClientType
    # SHA-256 of the secret (256 random bits), for confidential clients only.
    secret_hash: str | None = Field(default=None, repr=False)
    redirect_uris: list[str] = Field(default_factory=list)
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    grant_types: list[GrantType] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    # First-party clients skip the consent screen.
    first_party: bool = False
    # The ``aud`` of the access tokens it is given (the resource server); the issuer
    # when unset.
    audience: str | None = None
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # OIDC Dynamic Registration's ``id_token_signed_response_alg``: RS256, ES256 or EdDSA.
    id_token_signed_response_alg: str = "RS256"
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def is_public(self) -> bool:
        return self.client_type is ClientType.PUBLIC

    class Settings:
        name = "oauth_clients"
        use_state_management = False
        indexes = [IndexModel([("created_at", ASCENDING)], name="created_at")]


class OAuthConsent(Document):
    """What a user allowed a client: ``_id`` is ``<user id>:<client id>``, so the
    consent check is one read by ``_id`` (the only filter FerretDB answers from an index)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    user_id: str
    client_id: str
    scopes: list[str]
    granted_at: datetime

    class Settings:
        name = "oauth_consents"
        use_state_management = False
        # myAuthorizedApps (a settings page, not a hot path; FerretDB scans anyway).
        indexes = [IndexModel([("user_id", ASCENDING)], name="user_id")]

    @staticmethod
    def key(user_id: str, client_id: str) -> str:
        return f"{user_id}:{client_id}"
