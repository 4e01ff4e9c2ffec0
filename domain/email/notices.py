"""Notices to an account's owner when something that controls the account changes.

A stolen session that adds a second factor or mints an API key must not do it
quietly: the owner hears of every factor added or removed, every new set of backup
codes and every API key created with their account, at the address on the account.
Each notice is one outbox message (domain/email/outbox.py), so it survives a Redis
or worker outage like every other email.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from beanie import PydanticObjectId

from domain.email.outbox import Outbox


class Recipient(Protocol):
    @property
    def email(self) -> str: ...

    @property
    def first_name(self) -> str: ...


RecipientLoader = Callable[[PydanticObjectId], Awaitable[Recipient | None]]

# A second-factor change (domain/mfa/service.py FactorChange values) -> its template.
FACTOR_TEMPLATES = {
    "enabled": "two_factor_enabled",
    "disabled": "two_factor_disabled",
    "reset": "two_factor_reset",
    "backup_codes_regenerated": "backup_codes_regenerated",
}


class AccountNotices:
    def __init__(self, outbox: Outbox, load_recipient: RecipientLoader) -> None:
        self._outbox = outbox
        self._load = load_recipient

    async def factor_changed(self, user_id: PydanticObjectId, change: str) -> None:
        """``change`` is a FactorChange value; an unknown one is a programming error."""
        template = FACTOR_TEMPLATES[change]
        owner = await self._load(user_id)
        if owner is not None:
            await self._outbox.send(template, owner.email, user_id=user_id, name=owner.first_name)

    async def api_key_created(
        self, user_id: PydanticObjectId, key_name: str, scopes: Sequence[str]
    ) -> None:
        owner = await self._load(user_id)
        if owner is not None:
            await self._outbox.send(
                "api_key_created",
                owner.email,
                user_id=user_id,
                name=owner.first_name,
                key_name=key_name,
                scopes=", ".join(scopes) or "none",
            )

    async def app_signed_out(self, user_id: PydanticObjectId, app_name: str) -> None:
        """An app's refresh token was used twice (domain/oauth/refresh.py): its grant ended."""
        owner = await self._load(user_id)
        if owner is not None:
            await self._outbox.send(
                "oauth_refresh_reuse_alert",
                owner.email,
                user_id=user_id,
                name=owner.first_name,
                app=app_name,
            )
