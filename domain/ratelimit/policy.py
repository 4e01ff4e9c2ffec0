"""Which limits apply to which attempt, and what happens when Redis is away.

Sensitive operations are limited per client IP and per account; every request is
also limited at the door per caller (IP, user by role, or API key). Trusted
networks are exempt. If Redis is unavailable, login and second-factor attempts
are refused (fail closed) and everything else is let through (fail open); both
are logged.
"""

from __future__ import annotations

import hashlib
import ipaddress
from enum import StrEnum

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.clock import Clock
from domain.core.errors import RateLimitedError
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.ratelimit.limiter import Decision, Rule, SlidingWindowLimiter

FAIL_CLOSED_RETRY_SECONDS = 30


class Operation(StrEnum):
    LOGIN = "login"
    REGISTER = "register"
    EMAIL = "email"  # resend verification, request a reset: each sends an email
    TOKEN = "token"  # redeeming a link token: verify, reset, unlock, confirm
    REFRESH = "refresh"
    MFA = "mfa"


_FAIL_CLOSED = frozenset({Operation.LOGIN, Operation.MFA})


def _subject(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


class RateLimitService:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._enabled = settings.rate_limits_enabled
        self._clock = clock
        self._limiter = SlidingWindowLimiter(redis, settings.redis_key_prefix)
        self._allowlist = tuple(
            ipaddress.ip_network(item, strict=False) for item in settings.rate_limit_allowlist
        )
        s = settings
        self._by_ip = {
            Operation.LOGIN: Rule.parse("login-ip", s.rate_limit_login_ip),
            Operation.REGISTER: Rule.parse("register-ip", s.rate_limit_register_ip),
            Operation.EMAIL: Rule.parse("email-ip", s.rate_limit_email_ip),
            Operation.TOKEN: Rule.parse("token-ip", s.rate_limit_token_ip),
            Operation.REFRESH: Rule.parse("refresh-ip", s.rate_limit_refresh_ip),
            Operation.MFA: Rule.parse("mfa-ip", s.rate_limit_mfa_ip),
        }
        self._by_account = {
            Operation.LOGIN: Rule.parse("login-account", s.rate_limit_login_account),
            Operation.EMAIL: Rule.parse("email-account", s.rate_limit_email_account),
            Operation.MFA: Rule.parse("mfa-account", s.rate_limit_mfa_account),
        }
        self._request_ip = Rule.parse("request-ip", s.rate_limit_request_ip)
        self._request_user = Rule.parse("request-user", s.rate_limit_request_user)
        self._request_admin = Rule.parse("request-admin", s.rate_limit_request_admin)
        self._request_api_key = Rule.parse("request-api-key", s.rate_limit_request_api_key)

    def is_allowlisted(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self._allowlist)

    async def _hit(self, checks: list[tuple[Rule, str]], *, fail_closed: bool) -> Decision | None:
        try:
            decision = await self._limiter.hit(checks, self.now_ms())
        except RedisError as exc:
            logger.bind(fail_closed=fail_closed).warning("rate limiter unavailable: {}", exc)
            if fail_closed:
                raise RateLimitedError(
                    FAIL_CLOSED_RETRY_SECONDS,
                    "Sign-in is briefly unavailable. Try again in a moment.",
                ) from exc
            return None
        return self.enforce(decision)

    @staticmethod
    def enforce(decision: Decision) -> Decision:
        """The decision, if it allows the attempt. Raises RateLimitedError otherwise."""
        if not decision.allowed:
            raise RateLimitedError(
                decision.retry_after_seconds,
                f"Too many attempts. Try again in {decision.retry_after_seconds} seconds.",
            )
        return decision

    @property
    def limiter(self) -> SlidingWindowLimiter:
        return self._limiter

    def now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    async def check(
        self,
        operation: Operation,
        *,
        ip: str,
        account: str | None = None,
        api_key_id: str | None = None,
        api_key_limit: Rule | None = None,
    ) -> Decision | None:
        """Count one attempt. Raises RateLimitedError when over a limit."""
        if not self._enabled or self.is_allowlisted(ip):
            return None
        checks: list[tuple[Rule, str]] = []
        if api_key_id is not None:
            # A service client is limited as itself, with its own budget, not by IP.
            rule = api_key_limit or self._request_api_key
            checks.append((Rule(f"{operation}-key", rule.limit, rule.window_seconds), api_key_id))
        else:
            checks.append((self._by_ip[operation], ip))
        if account is not None and operation in self._by_account:
            checks.append((self._by_account[operation], _subject(account)))
        return await self._hit(checks, fail_closed=operation in _FAIL_CLOSED)

    async def check_request(
        self,
        *,
        ip: str,
        user_id: str | None,
        role: Role | None,
        api_key_id: str | None = None,
        api_key_limit: Rule | None = None,
    ) -> Decision | None:
        """The door: every request counts once against its caller's budget."""
        door = self.door_rule(
            ip=ip, user_id=user_id, role=role, api_key_id=api_key_id, api_key_limit=api_key_limit
        )
        if door is None:
            return None
        return await self._hit([door], fail_closed=False)

    def door_rule(
        self,
        *,
        ip: str,
        user_id: str | None,
        role: Role | None,
        api_key_id: str | None = None,
        api_key_limit: Rule | None = None,
    ) -> tuple[Rule, str] | None:
        """The (rule, subject) a request counts against at the door; None if exempt."""
        if not self._enabled or self.is_allowlisted(ip):
            return None
        if api_key_id is not None:
            return api_key_limit or self._request_api_key, f"key:{api_key_id}"
        if user_id is not None:
            admin = role is not None and role.rank >= Role.ADMIN.rank
            return (self._request_admin if admin else self._request_user), f"user:{user_id}"
        return self._request_ip, f"ip:{ip}"
