"""Linking a provider identity to an existing account, after proof of ownership.

A sign-in whose verified email matches an account gets a link token (``request``): it
names the account and the identity, lives in Redis for ``social_link_ttl_seconds``,
and links nothing by itself. The person then proves they own the account either by
signing in to it (password with its second factor, or a passkey) and redeeming the
token as that account (``confirm_signed_in``), or by asking for an email to the
account's address (``send_email``) and following its link (``confirm_email``): a
second token that only the mailbox sees. Each token is taken once (GETDEL). The
provider's tokens, where kept (tokens.py), wait in the record sealed as they will be
stored.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import orjson
from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.secrets import looks_like_token, new_token, token_hash
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository as users
from domain.identity.documents import User, UserStatus
from domain.social import repository
from domain.social.documents import SealedProviderTokens, SocialIdentity
from domain.social.errors import SocialIdentityTakenError, SocialLinkExpiredError
from domain.social.profile import ExternalIdentity

CONFIRM_LINK_PATH = "/confirm-social-link"


class LinkRequests:
    def __init__(
        self, settings: Settings, redis: Redis, clock: Clock, audit: AuditService, outbox: Outbox
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._audit = audit
        self._outbox = outbox
        self._ttl = settings.social_link_ttl_seconds
        self._prefix = f"{settings.redis_key_prefix}social:link:"

    async def request(
        self, user: User, identity: ExternalIdentity, tokens: SealedProviderTokens | None = None
    ) -> tuple[str, datetime]:
        token = new_token()
        expires_at = self._clock.now() + timedelta(seconds=self._ttl)
        record = {"u": str(user.id), "i": asdict(identity), "e": expires_at.timestamp()}
        if tokens is not None:
            record["t"] = tokens.model_dump(mode="json")
        await self._put(token, record)
        return token, expires_at

    async def _put(self, token: str, record: dict[str, Any]) -> None:
        await self._redis.set(self._prefix + token_hash(token), orjson.dumps(record), ex=self._ttl)

    async def _read(self, token: object, *, take: bool) -> dict[str, Any] | None:
        if not looks_like_token(token):
            return None
        assert isinstance(token, str)
        key = self._prefix + token_hash(token)
        raw = await (self._redis.getdel(key) if take else self._redis.get(key))
        if raw is None:
            return None
        record: dict[str, Any] = orjson.loads(raw)
        if self._clock.now().timestamp() >= float(record["e"]):
            return None
        return record

    async def confirm_signed_in(
        self, link_token: object, user_id: PydanticObjectId, actor: Actor
    ) -> SocialIdentity:
        """Link as the signed-in account the token was issued for.

        Raises: SocialLinkExpiredError (unknown, used, expired, or another account's),
        SocialIdentityTakenError."""
        record = await self._read(link_token, take=False)
        if record is None or record["u"] != str(user_id):
            raise SocialLinkExpiredError
        if await self._read(link_token, take=True) is None:
            raise SocialLinkExpiredError  # redeemed a moment ago
        return await self._link(record, actor, method="sign_in")

    async def send_email(self, link_token: object) -> None:
        """Email the account a confirmation link (once per link token). The answer is the
        same whatever the token: it says nothing about the account.

        Raises: SocialLinkExpiredError."""
        record = await self._read(link_token, take=True)
        if record is None:
            raise SocialLinkExpiredError
        user = await users.get(record["u"])
        if user is None or user.status is UserStatus.DELETED:
            return
        confirm = new_token()
        await self._put(confirm, {**record, "m": True})
        await self._outbox.send(
            "social_link_confirm",
            user.email,
            user_id=user.id,
            name=user.first_name,
            provider=record["i"]["provider"],
            provider_email=record["i"]["email"],
            link=self._outbox.link(CONFIRM_LINK_PATH, confirm),
            minutes=self._ttl // 60,
        )

    async def confirm_email(self, email_token: object, actor: Actor) -> SocialIdentity:
        """Raises: SocialLinkExpiredError, SocialIdentityTakenError."""
        record = await self._read(email_token, take=True)
        if record is None or not record.get("m"):
            raise SocialLinkExpiredError
        return await self._link(record, actor.as_user(record["u"]), method="email")

    async def _link(self, record: dict[str, Any], actor: Actor, *, method: str) -> SocialIdentity:
        user = await users.get(record["u"])
        if user is None or user.id is None or user.status is UserStatus.DELETED:
            raise SocialLinkExpiredError
        identity = ExternalIdentity(**record["i"])
        kept = record.get("t")
        return await link_identity(
            user,
            identity,
            actor,
            clock=self._clock,
            audit=self._audit,
            outbox=self._outbox,
            proof=method,
            tokens=SealedProviderTokens.model_validate(kept) if kept else None,
        )


async def link_identity(
    user: User,
    identity: ExternalIdentity,
    actor: Actor,
    *,
    clock: Clock,
    audit: AuditService,
    outbox: Outbox,
    proof: str,
    tokens: SealedProviderTokens | None = None,
) -> SocialIdentity:
    """Link, audit (a webhook follows the audit event) and email the owner. Linking an
    identity the account already has is a no-op. ``tokens``: the provider's, sealed,
    where kept. Raises: SocialIdentityTakenError."""
    assert user.id is not None
    existing = await repository.get(identity.key)
    if existing is not None:
        if existing.user_id != user.id:
            raise SocialIdentityTakenError
        return existing
    now = clock.now()
    linked = SocialIdentity(
        id=identity.key,
        user_id=user.id,
        provider=identity.provider,
        subject=identity.subject,
        email=identity.email,
        email_verified=identity.email_verified,
        picture=identity.picture,
        created_at=now,
        provider_tokens=tokens,
    )
    if not await repository.insert(linked):
        raise SocialIdentityTakenError
    await audit.record(
        "user.social_linked",
        AuditAction.UPDATE,
        actor=actor,
        target_id=str(user.id),
        details={"provider": identity.provider, "proof": proof},
    )
    await outbox.send(
        "social_linked",
        user.email,
        user_id=user.id,
        name=user.first_name,
        provider=identity.provider,
        provider_email=identity.email or "",
    )
    return linked
