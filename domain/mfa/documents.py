"""What MFA stores: one TOTP credential per user, hashed backup codes, trusted devices."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class TotpCredential(Document):
    """A user's TOTP secret; pending until ``confirmed_at`` is set.

    ``encrypted_secret`` is a ``SecretBox`` value bound to the user id, never the
    base32 secret itself.
    """

    user_id: PydanticObjectId
    encrypted_secret: str
    created_at: datetime
    confirmed_at: datetime | None = None
    # The last time step accepted; a step at or before it is refused (RFC 6238 5.2).
    last_used_step: int | None = None

    class Settings:
        name = "totp_credentials"
        use_state_management = False
        indexes = [IndexModel([("user_id", ASCENDING)], name="user_unique", unique=True)]


class BackupCode(Document):
    """One unused backup code, keyed by SHA-256 of ``"<user_id>:<normalized code>"``.

    Keying by the digest makes a lookup one ``get`` and keeps codes of different
    users from ever colliding. A used code is deleted.
    """

    id: str = Field(alias="_id")  # type: ignore[assignment]
    user_id: PydanticObjectId
    created_at: datetime
    # The generation the code belongs to; regenerating replaces the whole batch.
    batch: str

    class Settings:
        name = "backup_codes"
        use_state_management = False
        indexes = [IndexModel([("user_id", ASCENDING), ("batch", ASCENDING)], name="user_batch")]


class TrustedDevice(Document):
    """A device that answered the second factor and may skip it until ``expires_at``
    (domain/mfa/trusted_devices.py). Its token names this document's ``_id``; only the
    SHA-256 of the token's secret is kept."""

    user_id: PydanticObjectId
    secret_hash: str = Field(repr=False)
    # The device label (browser on system) and address it was granted from.
    device: str
    ip: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "trusted_devices"
        use_state_management = False
        indexes = [
            IndexModel([("user_id", ASCENDING)], name="user"),
            IndexModel([("expires_at", ASCENDING)], name="expires_at"),
        ]
