"""What MFA stores: one TOTP credential per user, hashed backup codes, trusted devices."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field, model_validator
from pymongo import ASCENDING, IndexModel


class TotpCredential(Document):
    """A user's TOTP secret; pending until ``confirmed_at`` is set.

    ``_id`` is the user's id (one credential per user), so the check every sign-in makes
    is one read by ``_id``, the only filter FerretDB answers from an index; ``user_id``
    repeats it for queries by owner. Credentials stored before that are re-keyed at
    start-up (domain/mfa/rekey.py). ``encrypted_secret`` is a ``SecretBox`` value bound
    to the user id, never the base32 secret itself.
    """

    user_id: PydanticObjectId
    encrypted_secret: str
    created_at: datetime
    confirmed_at: datetime | None = None
    # The last time step accepted; a step at or before it is refused (RFC 6238 5.2).
    last_used_step: int | None = None

    @model_validator(mode="after")
    def _keyed_by_user(self) -> TotpCredential:
        # Never a credential sign-in cannot find: the id is the owner's, always.
        self.id = self.user_id
        return self

    class Settings:
        name = "totp_credentials"
        use_state_management = False
        # None: ``_id`` is the user id. (The former unique index on ``user_id`` is
        # dropped by the re-keying, which needs two documents of one user for a moment.)


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
