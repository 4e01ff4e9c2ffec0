"""The rate-limit slice at service level, against the real Redis the session starts:
the sliding window refuses at the limit and frees a slot as the clock moves, several
rules count together or not at all, and allowlisted networks are never counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from domain.core.clock import FrozenClock
from domain.core.errors import RateLimitedError
from domain.core.settings import Settings
from domain.ratelimit.limiter import Rule, SlidingWindowLimiter
from domain.ratelimit.policy import Operation, RateLimitService


@pytest.fixture
def limiter(redis: Redis, settings: Settings) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(redis, settings.redis_key_prefix)


def ms(clock: FrozenClock) -> int:
    return int(clock.now().timestamp() * 1000)


async def test_the_limit_is_reached_and_retry_after_counts_down_to_the_oldest_attempt(
    limiter: SlidingWindowLimiter, clock: FrozenClock
) -> None:
    rule = Rule("reach", limit=3, window_seconds=60)
    remaining = []
    for _ in range(3):
        decision = await limiter.hit([(rule, "alice")], ms(clock))
        assert decision.allowed
        remaining.append(decision.remaining)
        clock.advance(timedelta(seconds=10))
    assert remaining == [2, 1, 0]
    refused = await limiter.hit([(rule, "alice")], ms(clock))
    assert not refused.allowed
    # The first attempt was 30 s ago: its slot frees 30 s from now.
    assert refused.retry_after_seconds == 30
    # Another subject has its own window.
    assert (await limiter.hit([(rule, "bob")], ms(clock))).allowed


async def test_the_window_slides_with_the_clock(
    limiter: SlidingWindowLimiter, clock: FrozenClock
) -> None:
    rule = Rule("slide", limit=2, window_seconds=60)
    assert (await limiter.hit([(rule, "carol")], ms(clock))).allowed
    clock.advance(timedelta(seconds=40))
    assert (await limiter.hit([(rule, "carol")], ms(clock))).allowed
    assert not (await limiter.hit([(rule, "carol")], ms(clock))).allowed
    # 20 s later the first attempt leaves the window; the second is still in it.
    clock.advance(timedelta(seconds=21))
    assert (await limiter.hit([(rule, "carol")], ms(clock))).allowed
    assert not (await limiter.hit([(rule, "carol")], ms(clock))).allowed
    # A refused attempt is not recorded: it does not push the window further out.
    clock.advance(timedelta(seconds=40))
    assert (await limiter.hit([(rule, "carol")], ms(clock))).allowed


async def test_several_rules_count_together_or_not_at_all(
    limiter: SlidingWindowLimiter, redis: Redis, clock: FrozenClock
) -> None:
    per_ip = Rule("multi-ip", limit=3, window_seconds=300)
    per_account = Rule("multi-account", limit=2, window_seconds=300)
    checks = [(per_ip, "198.51.100.1"), (per_account, "dave")]
    first = await limiter.hit(checks, ms(clock))
    assert first.allowed
    assert first.limit == 2  # the tightest rule is the one reported
    assert first.remaining == 1
    assert (await limiter.hit(checks, ms(clock))).allowed
    assert not (await limiter.hit(checks, ms(clock))).allowed
    # The refusal by the account rule was not counted against the IP rule.
    assert await redis.zcard(limiter.key(per_ip, "198.51.100.1")) == 2
    # The same IP for another account has one attempt left, then the IP rule refuses.
    other = [(per_ip, "198.51.100.1"), (per_account, "erin")]
    assert (await limiter.hit(other, ms(clock))).allowed
    refused = await limiter.hit(other, ms(clock))
    assert not refused.allowed
    assert refused.retry_after_seconds == 300
    assert await redis.zcard(limiter.key(per_account, "erin")) == 1


async def test_the_service_refuses_over_the_limit_until_the_window_moves_on(
    make_settings: Callable[..., Settings], redis: Redis, frozen_clock: Callable[..., FrozenClock]
) -> None:
    clock = frozen_clock()
    settings = make_settings(
        rate_limits_enabled=True,
        rate_limit_login_ip="3/60",
        rate_limit_login_account="100/60",
        redis_key_prefix="svc:",
    )
    limits = RateLimitService(settings, redis, clock)
    for _ in range(3):
        await limits.check(Operation.LOGIN, ip="203.0.113.9", account="frank@example.com")
    with pytest.raises(RateLimitedError) as refused:
        await limits.check(Operation.LOGIN, ip="203.0.113.9", account="frank@example.com")
    assert refused.value.retry_after_seconds == 60
    clock.advance(timedelta(seconds=61))
    decision = await limits.check(Operation.LOGIN, ip="203.0.113.9", account="frank@example.com")
    assert decision is not None
    assert decision.allowed


async def test_allowlisted_networks_are_never_counted(
    make_settings: Callable[..., Settings], redis: Redis, frozen_clock: Callable[..., FrozenClock]
) -> None:
    settings = make_settings(
        rate_limits_enabled=True,
        rate_limit_allowlist="10.0.0.0/8",
        rate_limit_login_ip="2/60",
        redis_key_prefix="allow:",
    )
    limits = RateLimitService(settings, redis, frozen_clock())
    for _ in range(10):
        assert await limits.check(Operation.LOGIN, ip="10.20.30.40") is None
    assert await limits.check_request(ip="10.20.30.40", user_id=None, role=None) is None
    assert await redis.keys("allow:rl:*") == []
    # Outside the allowlist the same rule applies.
    await limits.check(Operation.LOGIN, ip="192.0.2.50")
    await limits.check(Operation.LOGIN, ip="192.0.2.50")
    with pytest.raises(RateLimitedError):
        await limits.check(Operation.LOGIN, ip="192.0.2.50")
