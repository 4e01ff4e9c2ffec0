"""A registered passkey: one WebAuthn credential of one account.

Keyed by the credential id (base64url, as the browser sends it back), so a sign-in finds
its credential with a filter of exactly ``{_id}``, the one FerretDB serves from an index,
and the database refuses a credential registered twice, to one account or two.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class Passkey(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    user_id: PydanticObjectId
    # The COSE public key, base64url: what py_webauthn verifies each assertion with.
    public_key: str = Field(repr=False)
    # The authenticator's signature counter at the last accepted use (0: it keeps none).
    sign_count: int = 0
    transports: list[str] = Field(default_factory=list)
    # "single_device" or "multi_device" (synced), and whether it is backed up now.
    device_type: str
    backed_up: bool
    aaguid: str
    attestation_format: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None

    class Settings:
        name = "passkeys"
        use_state_management = False
        indexes = [IndexModel([("user_id", ASCENDING)], name="user")]
