"""Every query of the social slice: identities by ``_id``; an account's identities through
``owners.py`` (the ``user`` index on MongoDB, a per-account listing on FerretDB)."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId

from domain.core.by_id import update_by_id
from domain.core.owner_listing import delete_listed, store_listed
from domain.social.documents import SealedProviderTokens, SocialIdentity
from domain.social.owners import SOCIAL_OWNERS


async def get(key: str) -> SocialIdentity | None:
    return await SocialIdentity.get(key)


async def of_user(user_id: PydanticObjectId) -> list[SocialIdentity]:
    """The account's identities, oldest first."""
    return await SOCIAL_OWNERS.of_user(user_id)


async def count_of_user(user_id: PydanticObjectId) -> int:
    return await SOCIAL_OWNERS.count_of_user(user_id)


async def insert(identity: SocialIdentity) -> bool:
    """False when the identity is already linked (to anyone)."""
    return await store_listed(SOCIAL_OWNERS.active(), identity, identity.user_id, identity.id, [])


async def owners_among(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have a linked identity: one read for them all."""
    return await SOCIAL_OWNERS.active().owners_among(user_ids)


async def touch(key: str, at: datetime, tokens: SealedProviderTokens | None) -> None:
    """A sign-in used the identity: its time, and the provider's tokens it brought
    (``None`` removes any kept before, as when the setting was turned off)."""
    update: dict[str, object] = {"$set": {"last_used_at": at}}
    if tokens is not None:
        update["$set"] = {"last_used_at": at, "provider_tokens": tokens.model_dump()}
    else:
        update["$unset"] = {"provider_tokens": ""}
    await update_by_id(SocialIdentity.get_pymongo_collection(), key, update)


async def set_tokens(key: str, tokens: SealedProviderTokens | None) -> bool:
    """Replace (or with ``None`` drop) the kept tokens; False if the identity is gone."""
    update = (
        {"$set": {"provider_tokens": tokens.model_dump()}}
        if tokens is not None
        else {"$unset": {"provider_tokens": ""}}
    )
    return await update_by_id(SocialIdentity.get_pymongo_collection(), key, update)


async def delete(key: str, user_id: PydanticObjectId) -> bool:
    return await delete_listed(SOCIAL_OWNERS.active(), key, user_id)
