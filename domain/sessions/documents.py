"""Sessions (one per login on a device) and the refresh-token family of each."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from domain.tokens.methods import legacy_methods


class SessionImpersonation(BaseModel):
    """An administrator's short session as the user (domain/impersonation/): shown to the
    user in ``mySessions``; it has no refresh family and ends with ``parent_session_id``."""

    admin_id: str
    admin_name: str
    parent_session_id: str
    reason: str
    read_only: bool


class Session(Document):
    user_id: PydanticObjectId
    device: str
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    # Absolute end of the refresh-token family; idle expiry lives on each refresh token.
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    # Signed in with a second factor: every access token of the session says so (amr).
    mfa: bool = False
    # RFC 8176 methods of the sign-in (domain/tokens/methods.py); None in sessions opened
    # before they were kept: derived from ``mfa``.
    amr: list[str] | None = None
    # The last ``reauthenticate`` (domain/identity/reauthentication.py); None: only the sign-in.
    authenticated_at: datetime | None = None
    # Set only on an impersonation session.
    impersonation: SessionImpersonation | None = None

    @property
    def methods(self) -> tuple[str, ...]:
        """How the session signed in (its access tokens' ``amr``)."""
        return tuple(self.amr) if self.amr is not None else legacy_methods(self.mfa)

    @property
    def auth_time(self) -> datetime:
        """When the session last proved who it is: its sign-in or its last ``reauthenticate``.

        Refreshing does not move it (the refresh token is as stealable as the access token).
        """
        return self.authenticated_at or self.created_at

    class Settings:
        name = "sessions"
        use_state_management = False
        indexes = [
            IndexModel(
                [("user_id", ASCENDING), ("revoked_at", ASCENDING), ("last_seen_at", DESCENDING)],
                name="user_active",
            ),
            IndexModel([("expires_at", ASCENDING)], name="expires_at"),
        ]


class RefreshToken(Document):
    """One link of a session's rotation chain, keyed by the token's SHA-256: the format
    before ``RefreshFamily``, kept so sessions opened before it refresh once into it."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    session_id: PydanticObjectId
    user_id: PydanticObjectId
    generation: int
    created_at: datetime
    idle_expires_at: datetime
    rotated_at: datetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("session_id", ASCENDING)], name="session"),
            IndexModel([("idle_expires_at", ASCENDING)], name="idle_expires_at"),
        ]


class RefreshFamily(Document):
    """A session's refresh-token rotation state, keyed by the session's id.

    Tokens are derived from the sealed per-session secret and the generation
    (domain/sessions/refresh_tokens.py), so nothing per token is stored and a rotation
    is one conditional update of this document. It carries what a refresh needs, so a
    refresh reads this document alone; it exists exactly while the session may refresh
    (ending the session deletes it first).

    It is apart from ``Session`` because FerretDB rewrites a whole document on update:
    a rotation racing a ``last_seen_at`` or revocation write there could undo one of
    them. Besides the rotation (decided once per generation in Redis) only a
    re-authentication writes here (``auth_time``); should the two race on FerretDB, the
    loser's field goes back one step, which can only ask for a re-authentication again
    or end the session, never extend it.
    """

    id: PydanticObjectId = Field(alias="_id")
    user_id: PydanticObjectId
    sealed_secret: str
    # The generation of the one live refresh token.
    generation: int
    expires_at: datetime
    idle_expires_at: datetime
    mfa: bool = False
    # The session's sign-in methods (RFC 8176), as on the session; None in families
    # opened before they were kept: derived from ``mfa``.
    amr: list[str] | None = None
    # The session's auth_time (its sign-in or last re-authentication); None in families
    # opened before it was kept here: the session document has it.
    auth_time: datetime | None = None
    # When the live token was minted, and the client context of that rotating request.
    rotated_at: datetime | None = None
    rotated_context: str | None = None

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.amr) if self.amr is not None else legacy_methods(self.mfa)

    class Settings:
        name = "refresh_families"
        use_state_management = False
        indexes = [IndexModel([("expires_at", ASCENDING)], name="expires_at")]


class RefreshRotation(Document):
    """One rotation of a refresh family: generation ``n`` of session ``s`` was minted
    (``_id`` ``"s:n"``), when, and from which client context (user-agent family and IP
    network, domain/sessions/device.py). Inserted, never updated: the unique ``_id``
    lets a generation be minted once on every MongoDB server
    (domain/sessions/rotation_records.py)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    # Whose: erased with the account (domain/privacy/data_map.py).
    user_id: PydanticObjectId
    at: datetime
    context: str
    # The session's absolute end: purged after it (a replay stays reuse until then).
    expires_at: datetime

    class Settings:
        name = "refresh_rotations"
        indexes = [
            IndexModel([("expires_at", ASCENDING)], name="expires_at"),
            IndexModel([("user_id", ASCENDING)], name="user"),
        ]
