"""Persisted documents in Redis: bounded in number and size, forgotten when unused.

Two keys: a hash of sha256 → document, and a sorted set of sha256 → last use (ms). Both
scripts keep them in step, drop entries unused for the TTL and, past the cap, the least
recently used ones, so the store never outgrows ``max_documents * max_document_bytes``.
A lookup that cannot reach Redis reads as "not found": the client then sends the full
text, which runs without the store.
"""

from __future__ import annotations

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.clock import Clock
from domain.core.settings import Settings

# KEYS: documents, last_used. ARGV: sha256, now_ms, ttl_ms.
_LOOKUP_LUA = """
local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not seen then return false end
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local text = redis.call('HGET', KEYS[1], ARGV[1])
if (not text) or tonumber(seen) <= now - ttl then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
  return false
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return text
"""

# KEYS: documents, last_used. ARGV: sha256, document, now_ms, ttl_ms, max_documents.
# Returns how many documents were dropped.
_REGISTER_LUA = """
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
local stale = redis.call('ZCOUNT', KEYS[2], '-inf', now - ttl)
local excess = redis.call('ZCARD', KEYS[2]) - stale - tonumber(ARGV[5])
if excess < 0 then excess = 0 end
local drop = stale + excess
if drop > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, drop - 1)
  for i = 1, #oldest, 500 do
    redis.call('HDEL', KEYS[1], unpack(oldest, i, math.min(i + 499, #oldest)))
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, drop - 1)
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return drop
"""


class PersistedQueryStore:
    def __init__(self, redis: Redis, settings: Settings, clock: Clock) -> None:
        self._clock = clock
        self.enabled = settings.persisted_queries_enabled
        self._max_documents = settings.persisted_queries_max_documents
        self._max_bytes = settings.persisted_queries_max_document_bytes
        self._ttl_ms = settings.persisted_queries_ttl_seconds * 1000
        prefix = f"{settings.redis_key_prefix}apq:"
        self._keys = [f"{prefix}documents", f"{prefix}last_used"]
        self._lookup = redis.register_script(_LOOKUP_LUA)
        self._register = redis.register_script(_REGISTER_LUA)

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    async def lookup(self, digest: str) -> str | None:
        try:
            text = await self._lookup(keys=self._keys, args=[digest, self._now_ms(), self._ttl_ms])
        except RedisError as exc:
            logger.warning("persisted query lookup unavailable: {}", exc)
            return None
        if text is None:
            return None
        return text.decode("utf-8") if isinstance(text, bytes) else str(text)

    async def register(self, digest: str, document: str) -> bool:
        """Remember a document that parsed and validated; False when it was not kept."""
        if len(document.encode("utf-8")) > self._max_bytes:
            return False
        try:
            await self._register(
                keys=self._keys,
                args=[digest, document, self._now_ms(), self._ttl_ms, self._max_documents],
            )
        except RedisError as exc:
            logger.warning("persisted query not registered: {}", exc)
            return False
        return True
