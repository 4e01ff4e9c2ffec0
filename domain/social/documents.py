"""A provider identity linked to an account.

Keyed ``"<provider>:<subject>"`` so a sign-in finds it with a filter of exactly
``{_id}`` (the one FerretDB serves from an index) and the database refuses one
identity linked twice. A user's identities are read through ``owners.py``: the ``user``
index on MongoDB, a per-account listing read by ``_id`` on FerretDB.

The provider's own tokens are kept only where ``GATEHOUSE_SOCIAL_STORE_PROVIDER_TOKENS``
asks (domain/social/tokens.py), sealed with AES-GCM and bound to the identity's id, so a
copied ciphertext opens for no other identity; they go with the identity when unlinked.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel


class SealedProviderTokens(BaseModel):
    """The provider's tokens, each sealed (domain/core/secret_box.py)."""

    access_token: str
    refresh_token: str | None = None
    # When the access token stops working, by our clock (None: the provider did not say).
    expires_at: datetime | None = None
    scope: str | None = None


class SocialIdentity(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    user_id: PydanticObjectId
    provider: str
    subject: str
    # The address the provider gave when linked (shown to the owner; not a login key).
    email: str | None = None
    email_verified: bool = False
    # The provider's avatar (https only), offered to the frontend; never fetched here.
    picture: str | None = None
    created_at: datetime
    last_used_at: datetime | None = None
    provider_tokens: SealedProviderTokens | None = None

    class Settings:
        name = "social_identities"
        use_state_management = False
        indexes = [IndexModel([("user_id", ASCENDING)], name="user")]
