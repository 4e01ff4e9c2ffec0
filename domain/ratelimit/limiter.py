"""A sliding-window log per key, checked and recorded for several rules at once.

One Lua script evaluates every rule of an attempt in a single round trip and
records the attempt only if all of them allow it, so concurrent requests cannot
slip past a limit between a read and a write.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

# A Lua function for every script that counts attempts (see also
# domain/sessions/admission.py): checks each (key, limit, window) and records the
# attempt in all of them only if all allow it. Returns {allowed,
# remaining_of_tightest, retry_after_ms, reset_ms}.
SLIDING_WINDOW_LUA = """
local function sliding_window(keys, limits, windows, now, member)
  local allowed = 1
  local retry = 0
  local remaining = -1
  local reset = 0
  for i, key in ipairs(keys) do
    local limit = limits[i]
    local window = windows[i]
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    local left = limit - count
    if left <= 0 then
      allowed = 0
      local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      local wait = window
      if oldest[2] then wait = tonumber(oldest[2]) + window - now end
      if wait > retry then retry = wait end
    end
    if remaining < 0 or left < remaining then
      remaining = left
      reset = window
    end
  end
  if allowed == 1 then
    for i, key in ipairs(keys) do
      redis.call('ZADD', key, now, member)
      redis.call('PEXPIRE', key, windows[i])
    end
    remaining = remaining - 1
  end
  if remaining < 0 then remaining = 0 end
  return {allowed, remaining, retry, reset}
end
"""

# KEYS: one sorted set per rule. ARGV: now_ms, then (limit, window_ms) per key, then a
# member id.
_SCRIPT = (
    SLIDING_WINDOW_LUA
    + """
local limits, windows = {}, {}
for i = 1, #KEYS do
  limits[i] = tonumber(ARGV[2 * i])
  windows[i] = tonumber(ARGV[2 * i + 1])
end
return sliding_window(KEYS, limits, windows, tonumber(ARGV[1]), ARGV[#ARGV])
"""
)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, name: str, spec: str) -> Rule:
        """``"30/300"`` → 30 attempts per 300 seconds."""
        count, _, seconds = spec.partition("/")
        rule = cls(name=name, limit=int(count), window_seconds=int(seconds or 60))
        if rule.limit < 1 or rule.window_seconds < 1:
            raise ValueError(f"invalid rate limit {name}={spec!r}")
        return rule


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: int
    reset_seconds: int


class SlidingWindowLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_SCRIPT)

    def key(self, rule: Rule, subject: str) -> str:
        return f"{self._prefix}rl:{rule.name}:{subject}"

    async def hit(self, checks: Sequence[tuple[Rule, str]], now_ms: int) -> Decision:
        """Record one attempt against every (rule, subject) if all allow it."""
        keys = [self.key(rule, subject) for rule, subject in checks]
        args: list[int | str] = [now_ms]
        for rule, _ in checks:
            args += [rule.limit, rule.window_seconds * 1000]
        args.append(new_member())
        reply = await self._script(keys=keys, args=args)
        return decision_from_reply(min(checks, key=lambda c: c[0].limit)[0], reply)


def new_member() -> str:
    """A unique member for one attempt in a window's sorted set."""
    return uuid.uuid4().hex


def decision_from_reply(tightest: Rule, reply: Sequence[int]) -> Decision:
    """The Decision of a ``sliding_window`` reply: {allowed, remaining, retry_ms, reset_ms}."""
    allowed, remaining, retry_ms, reset_ms = (int(value) for value in reply[:4])
    return Decision(
        allowed=bool(allowed),
        limit=tightest.limit,
        remaining=remaining,
        retry_after_seconds=max(math.ceil(retry_ms / 1000), 1) if not allowed else 0,
        reset_seconds=math.ceil(reset_ms / 1000),
    )
