"""Send receipts: the note a worker writes the moment the provider accepted an email.

The outbox record is updated to ``sent`` after the SMTP conversation, and under load
that database write takes tens of milliseconds; a worker killed inside that gap left
the message ``sending``, and the next attempt sent it again. The receipt is written to
Redis (well under a millisecond) as soon as the provider answers the message data,
before the connection is even closed, and the next attempt reads it first: it records
the earlier delivery instead of repeating it. What remains is the round trip between
the provider's answer and the receipt; the stable ``Message-ID`` lets mailboxes drop
the rare copy sent inside it.
"""

from __future__ import annotations

from datetime import timedelta

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

RECEIPT_TTL = timedelta(days=7)


class SendReceipts:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, message_id: str, attempt: int) -> str:
        return f"{self._prefix}email-sent:{message_id}:{attempt}"

    async def record(self, message_id: str, attempt: int, provider_id: str) -> None:
        """Best effort: without Redis the database record is the only one, as before."""
        try:
            await self._redis.set(self._key(message_id, attempt), provider_id, ex=RECEIPT_TTL)
        except RedisError as error:
            logger.bind(email_id=message_id).warning("send receipt not written: {}", error)

    async def find(self, message_id: str, attempt: int) -> str | None:
        """The provider id of an attempt the provider accepted, or None."""
        value = await self._redis.get(self._key(message_id, attempt))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)
