"""Emails whose sending must not say whether an account exists.

Anonymous requests (register, resend, reset) and the lock of an address answer alike
for accounts and non-accounts, so where nothing may be sent the same work is still
done: a link token for nobody and a suppressed outbox record. Repeated emails to one
address are quietly throttled.
"""

from __future__ import annotations

from datetime import timedelta

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity.action_tokens import ActionPurpose, ActionTokens
from domain.identity.common import fingerprint
from domain.identity.documents import NO_USER


class QuietMail:
    def __init__(
        self, settings: Settings, redis: Redis, tokens: ActionTokens, mailer: Outbox
    ) -> None:
        self._prefix = f"{settings.redis_key_prefix}cooldown:"
        self._redis = redis
        self._tokens = tokens
        self._mailer = mailer

    async def cooldown(self, kind: str, subject: str, seconds: int) -> bool:
        """True at most once per window per subject: quiet throttling of emails."""
        key = f"{self._prefix}{kind}:{fingerprint(subject)}"
        try:
            return bool(await self._redis.set(key, b"1", nx=True, ex=seconds))
        except RedisError as exc:
            # Send rather than fail: the answer must not depend on whether an account exists.
            logger.warning("email cooldown unavailable: {}", exc)
            return True

    async def decoy_token(self, purpose: ActionPurpose) -> None:
        """The token write of a real email, for nobody (its raw value is dropped, and no
        user has the id it names); expires and is purged like any other."""
        await self._tokens.issue(purpose, NO_USER, timedelta(hours=1))

    async def send_nothing(self, purpose: ActionPurpose, template: str) -> None:
        """The work of issuing a link and mailing it, where nothing may be sent: for an
        address without an account, or an account that does not qualify."""
        await self.decoy_token(purpose)
        await self._mailer.send_nothing(template)
