"""Admitting a request at the door, in one Redis round trip.

An authenticated request needs three answers from Redis before it runs: is the
token's session revoked, is it time to record the session's activity, and is the
caller within its rate limit at the door. One Lua script gives all three, and the
caller's cached account (domain/identity/cache.py) besides, so the hot path of every
app (``me`` and friends) pays one round trip, not four.

The semantics are those of the separate checks: a revoked session's request is
anonymous, so it counts against the IP's budget. Without Redis a token cannot be
checked, so nobody is admitted on it (fail closed) - but the answer must be "try
again", not "your credentials are bad": a client that hears UNAUTHENTICATED throws its
tokens away, and a few seconds of Redis restart would sign every user out. So the
admission says ``unavailable`` and the transport answers SERVICE_UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger
from pymongo.errors import PyMongoError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.apikeys.service import ApiKeyPrincipal
from domain.ratelimit.limiter import (
    SLIDING_WINDOW_LUA,
    Decision,
    Rule,
    decision_from_reply,
    new_member,
)
from domain.ratelimit.policy import RateLimitService
from domain.sessions.principal import Authenticator, Principal
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionService
from domain.tokens.access import InvalidAccessToken

# KEYS: revocation record, activity marker, the user's cached account, door bucket if
# live, door bucket if revoked, then (an impersonation) the revocation record of the
# administrator's session. ARGV: now_ms, marker ttl, door on ("1"/"0"), live limit,
# live window_ms, revoked limit, revoked window_ms, member, parent ("1"/"0"). Returns
# {revoked, mark_activity, door reply..., cached account or ""}: an impersonation ends
# in the same round trip as its parent session.
_ADMISSION_LUA = (
    SLIDING_WINDOW_LUA
    + """
local revoked = redis.call('EXISTS', KEYS[1])
if revoked == 0 and ARGV[9] == '1' then
  revoked = redis.call('EXISTS', KEYS[#KEYS])
end
local mark = 0
if revoked == 0 and redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  mark = 1
end
local door = {1, 0, 0, 0}
if ARGV[3] == '1' then
  local now = tonumber(ARGV[1])
  if revoked == 0 then
    door = sliding_window({KEYS[4]}, {tonumber(ARGV[4])}, {tonumber(ARGV[5])}, now, ARGV[8])
  else
    door = sliding_window({KEYS[5]}, {tonumber(ARGV[6])}, {tonumber(ARGV[7])}, now, ARGV[8])
  end
end
local account = ''
if revoked == 0 then account = redis.call('GET', KEYS[3]) or '' end
return {revoked, mark, door[1], door[2], door[3], door[4], account}
"""
)


@dataclass(frozen=True, slots=True)
class Admission:
    principal: Principal | None
    decision: Decision | None  # None: exempt from the door (or Redis away)
    # A token was presented but could not be checked (Redis away): try again later.
    unavailable: bool = False
    # The principal's account as the user cache held it (CachedUsers.get takes it).
    cached_account: bytes | None = None


class RequestAdmission:
    def __init__(
        self,
        redis: Redis,
        authenticator: Authenticator,
        revocations: SessionRevocations,
        sessions: SessionService,
        rate_limits: RateLimitService,
        account_key: Callable[[str], str],
    ) -> None:
        """``account_key``: where the user cache keeps a user's account (identity's
        ``CachedUsers.key``), read in the same round trip."""
        self._authenticator = authenticator
        self._account_key = account_key
        self._revocations = revocations
        self._sessions = sessions
        self._limits = rate_limits
        self._script = redis.register_script(_ADMISSION_LUA)

    async def admit(
        self, token: str | None, *, ip: str, api_key: ApiKeyPrincipal | None = None
    ) -> Admission:
        """Who is calling, and whether the door lets them in.

        Raises:
            RateLimitedError: the caller is over its budget at the door.
        """
        claimed: Principal | None = None
        if token is not None:
            try:
                claimed = self._authenticator.claimed_principal(token)
            except InvalidAccessToken as error:
                logger.bind(reason=error.reason).info("access token refused")
        key_id = api_key.id if api_key else None
        key_limit = api_key.rate_limit if api_key else None
        if claimed is None:
            decision = await self._limits.check_request(
                ip=ip, user_id=None, role=None, api_key_id=key_id, api_key_limit=key_limit
            )
            return Admission(principal=None, decision=decision)
        return await self._admit_session(claimed, ip=ip, key_id=key_id, key_limit=key_limit)

    async def _admit_session(
        self,
        claimed: Principal,
        *,
        ip: str,
        key_id: str | None,
        key_limit: Rule | None,
    ) -> Admission:
        limits = self._limits
        live_door = limits.door_rule(
            ip=ip,
            user_id=claimed.user_id,
            role=claimed.role,
            api_key_id=key_id,
            api_key_limit=key_limit,
        )
        revoked_door = limits.door_rule(
            ip=ip,
            user_id=None,
            role=None,
            api_key_id=key_id,
            api_key_limit=key_limit,
        )
        marker, marker_ttl = self._sessions.seen_marker(claimed.session_id)
        keys = [
            self._revocations.key(claimed.session_id),
            marker,
            self._account_key(claimed.user_id),
        ]
        parent = claimed.parent_session_id
        args: list[int | str] = [
            limits.now_ms(),
            marker_ttl,
            "0",
            0,
            0,
            0,
            0,
            new_member(),
            "0" if parent is None else "1",
        ]
        if live_door is not None and revoked_door is not None:
            keys += [limits.limiter.key(*live_door), limits.limiter.key(*revoked_door)]
            args[2:7] = [
                "1",
                live_door[0].limit,
                live_door[0].window_seconds * 1000,
                revoked_door[0].limit,
                revoked_door[0].window_seconds * 1000,
            ]
        if parent is not None:
            keys.append(self._revocations.key(parent))
        try:
            revoked, mark, *door, account = await self._script(keys=keys, args=args)
        except RedisError as error:
            # Without the revocation list a token cannot be trusted: fail closed.
            logger.warning("cannot check token revocation: {}", error)
            return Admission(principal=None, decision=None, unavailable=True)
        decision: Decision | None = None
        if live_door is not None and revoked_door is not None:
            rule = (revoked_door if revoked else live_door)[0]
            decision = limits.enforce(decision_from_reply(rule, door))
        if revoked:
            logger.bind(reason="session revoked").info("access token refused")
            return Admission(principal=None, decision=decision)
        if mark:
            try:
                await self._sessions.record_seen(claimed.session_id)
            except PyMongoError as error:
                # Activity is best effort: a database outage must not refuse the request.
                logger.warning("cannot record session activity: {}", error)
        return Admission(principal=claimed, decision=decision, cached_account=account or None)
