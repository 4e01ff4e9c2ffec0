"""Single-use, expiring, hashed tokens that emailed links carry.

Only the SHA-256 of a token is stored. Consuming one is decided exactly once by
a claim (see ``domain.core.claims``), so racing requests cannot both use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from domain.core.claims import Claim, claim_once
from domain.core.clock import Clock
from domain.core.errors import DomainError
from domain.core.secrets import looks_like_token, new_token, token_hash
from domain.identity.errors import IdentityErrorCode


class ActionPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    CHANGE_EMAIL = "change_email"
    UNLOCK_ACCOUNT = "unlock_account"
    # domain/privacy/: a data export's download, an account deletion's undo.
    DOWNLOAD_EXPORT = "download_export"
    CANCEL_DELETION = "cancel_deletion"


class InvalidActionTokenError(DomainError):
    code = IdentityErrorCode.INVALID_TOKEN
    default_message = "This link is invalid or has expired. Request a new one."


class ActionToken(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    purpose: ActionPurpose
    user_id: PydanticObjectId
    created_at: datetime
    expires_at: datetime
    # What the token is bound to: the email it verifies, or the password it may replace.
    fingerprint: str | None = None
    new_email: str | None = None

    class Settings:
        name = "action_tokens"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("purpose", ASCENDING)], name="user_purpose"),
            IndexModel([("expires_at", ASCENDING)], name="expires_at"),
        ]


class ActionTokens:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def issue(
        self,
        purpose: ActionPurpose,
        user_id: PydanticObjectId,
        ttl: timedelta,
        *,
        fingerprint: str | None = None,
        new_email: str | None = None,
    ) -> str:
        raw = new_token()
        now = self._clock.now()
        await ActionToken(
            _id=token_hash(raw),
            purpose=purpose,
            user_id=user_id,
            created_at=now,
            expires_at=now + ttl,
            fingerprint=fingerprint,
            new_email=new_email,
        ).insert()
        return raw

    async def peek(self, purpose: ActionPurpose, raw: object) -> ActionToken:
        """The live token, without using it up.

        Raises:
            InvalidActionTokenError: unknown, malformed, expired or for another purpose.
        """
        if not looks_like_token(raw):
            raise InvalidActionTokenError
        assert isinstance(raw, str)
        token = await ActionToken.find_one(ActionToken.id == token_hash(raw))
        if (
            token is None
            or token.purpose != purpose
            or _aware(token.expires_at) <= self._clock.now()
        ):
            raise InvalidActionTokenError
        return token

    async def consume(self, purpose: ActionPurpose, raw: object) -> ActionToken:
        """Use the token once.

        Raises:
            InvalidActionTokenError: unknown, malformed, expired, other purpose, or used.
        """
        token = await self.peek(purpose, raw)
        now = self._clock.now()
        if not await claim_once(f"action:{token.id}", now=now, expires_at=token.expires_at):
            raise InvalidActionTokenError
        await token.delete()
        return token

    @asynccontextmanager
    async def redeeming(self, purpose: ActionPurpose, raw: object) -> AsyncIterator[ActionToken]:
        """Use the token once, and only if the block succeeds.

        The claim is taken first, so racing requests cannot both act on one link; if the
        block raises (the new address was taken a moment ago, the database failed), the
        claim is given back and the link still works.

        Raises:
            InvalidActionTokenError: unknown, malformed, expired, other purpose, or in use.
        """
        token = await self.peek(purpose, raw)
        key = f"action:{token.id}"
        if not await claim_once(key, now=self._clock.now(), expires_at=token.expires_at):
            raise InvalidActionTokenError
        try:
            yield token
        except Exception:
            await Claim.find_one(Claim.id == key).delete()
            raise
        await token.delete()

    async def revoke_all(self, user_id: PydanticObjectId, purpose: ActionPurpose) -> None:
        await ActionToken.find(
            ActionToken.user_id == user_id, ActionToken.purpose == purpose
        ).delete()


def _aware(moment: datetime) -> datetime:
    # The client is tz_aware, but documents built in memory may not be.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
