"""Activity analytics.

Live counts (active users, operations) are kept in Redis: a HyperLogLog of user ids
per day and a sorted set of operation names per day. A request only notes its
activity in memory; each API process writes what it noted in one pipelined round
trip per second (``run_flusher``), so analytics cost the request path no Redis call.
A crash loses at most that second of counts. Historical counts come from the audit
trail, grouped by the stored ``day`` field with ``$match``/``$group`` only (the FerretDB subset).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.analytics.clients import ClientSignIns, count_client_sign_ins
from domain.audit.documents import AuditEvent
from domain.core.clock import Clock
from domain.core.settings import Settings

KEEP_DAYS = 400
MAX_OPERATION_NAMES = 500
FLUSH_INTERVAL_SECONDS = 1.0
# Past this many distinct entries the buffer is written at once, not at the next tick.
MAX_PENDING = 5000


@dataclass(frozen=True, slots=True)
class ActiveUsers:
    day: date
    daily: int
    weekly: int
    monthly: int


@dataclass(frozen=True, slots=True)
class DailyAuthStats:
    day: date
    logins: int
    failed_logins: int
    signups: int


@dataclass(frozen=True, slots=True)
class Cohort:
    week_start: date
    size: int
    retained: list[int]  # users of the cohort active in week 0, 1, 2, ...


@dataclass(frozen=True, slots=True)
class OperationCount:
    name: str
    count: int


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


class AnalyticsService:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = f"{settings.redis_key_prefix}analytics:"
        self._users: defaultdict[date, set[str]] = defaultdict(set)
        self._operations: defaultdict[date, Counter[str]] = defaultdict(Counter)
        self._pending = 0
        self._due = asyncio.Event()

    def _active_key(self, day: date) -> str:
        return f"{self._prefix}active:{day.isoformat()}"

    def _ops_key(self, day: date) -> str:
        return f"{self._prefix}ops:{day.isoformat()}"

    def note_activity(self, user_id: str | None, operation: str | None) -> None:
        """Count a request's caller and operation; written by the next flush."""
        today = self._clock.now().date()
        if user_id:
            self._users[today].add(user_id)
        if operation:
            self._operations[today][operation] += 1
        self._pending += 1
        if self._pending >= MAX_PENDING:
            self._due.set()

    async def flush(self) -> None:
        """Write the noted activity in one pipelined round trip; never raises."""
        if not self._pending:
            return
        users, self._users = self._users, defaultdict(set)
        operations, self._operations = self._operations, defaultdict(Counter)
        self._pending = 0
        pipe = self._redis.pipeline(transaction=False)
        for day, ids in users.items():
            pipe.pfadd(self._active_key(day), *ids)
            pipe.expire(self._active_key(day), KEEP_DAYS * 86400)
        for day, counts in operations.items():
            for name, count in counts.items():
                pipe.zincrby(self._ops_key(day), count, name)
            # Names are client-chosen: keep only the most used, so the set stays small.
            pipe.zremrangebyrank(self._ops_key(day), 0, -(MAX_OPERATION_NAMES + 1))
            pipe.expire(self._ops_key(day), KEEP_DAYS * 86400)
        try:
            await pipe.execute()
        except RedisError as exc:
            # Dropped, not kept: holding counts for an absent Redis would grow memory.
            logger.debug("analytics not recorded: {}", exc)

    async def run_flusher(self, interval: float = FLUSH_INTERVAL_SECONDS) -> None:
        """Flush every interval (or sooner when the buffer is full) until cancelled."""
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), timeout=interval)
                self._due.clear()
                await self.flush()
        finally:
            await asyncio.shield(self.flush())

    async def active_users(self, day: date) -> ActiveUsers:
        await self.flush()  # this process's own latest activity counts too
        keys = [self._active_key(day - timedelta(days=i)) for i in range(30)]
        daily = await self._redis.pfcount(keys[0])
        weekly = await self._redis.pfcount(*keys[:7])
        monthly = await self._redis.pfcount(*keys)
        return ActiveUsers(day=day, daily=int(daily), weekly=int(weekly), monthly=int(monthly))

    async def top_operations(self, day: date, days: int, limit: int) -> list[OperationCount]:
        await self.flush()
        totals: dict[str, float] = defaultdict(float)
        for offset in range(days):
            rows = await self._redis.zrange(
                self._ops_key(day - timedelta(days=offset)), 0, -1, withscores=True
            )
            for row in rows:
                name, score = row[0], row[1]
                totals[name.decode() if isinstance(name, bytes) else str(name)] += float(score)
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [OperationCount(name=name, count=int(count)) for name, count in ranked]

    async def client_sign_ins(self, client_ids: list[str], days: int) -> dict[str, ClientSignIns]:
        """Per OpenID client: grants issued and exchanged in the last ``days`` days (today
        included), from the audit trail (domain/analytics/clients.py)."""
        since = self._clock.now().date() - timedelta(days=days - 1)
        return await count_client_sign_ins(client_ids, since, days)

    async def daily_auth_stats(self, since: date, until: date) -> list[DailyAuthStats]:
        """Per day in [since, until]: logins, failed logins, sign-ups (zeros included)."""
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "day": {"$gte": since.isoformat(), "$lte": until.isoformat()},
                    "event": {"$in": ["user.login", "user.login_failed", "user.registered"]},
                }
            },
            {"$group": {"_id": {"day": "$day", "event": "$event"}, "count": {"$sum": 1}}},
        ]
        counts: dict[tuple[str, str], int] = {}
        async for row in await AuditEvent.get_pymongo_collection().aggregate(pipeline):
            counts[(row["_id"]["day"], row["_id"]["event"])] = int(row["count"])
        days = (until - since).days + 1
        result = []
        for offset in range(max(days, 0)):
            day = since + timedelta(days=offset)
            key = day.isoformat()
            result.append(
                DailyAuthStats(
                    day=day,
                    logins=counts.get((key, "user.login"), 0),
                    failed_logins=counts.get((key, "user.login_failed"), 0),
                    signups=counts.get((key, "user.registered"), 0),
                )
            )
        return result

    async def weekly_retention(self, weeks: int) -> list[Cohort]:
        """Cohorts by sign-up week; for each, how many signed in during each later week."""
        today = self._clock.now().date()
        first_week = _week_start(today) - timedelta(weeks=weeks - 1)
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "day": {"$gte": first_week.isoformat()},
                    "event": {"$in": ["user.registered", "user.login"]},
                }
            },
            {"$group": {"_id": {"user": "$target_id", "day": "$day", "event": "$event"}}},
        ]
        signup_week: dict[str, date] = {}
        active_weeks: dict[str, set[date]] = defaultdict(set)
        async for row in await AuditEvent.get_pymongo_collection().aggregate(pipeline):
            key = row["_id"]
            user, day = key.get("user"), date.fromisoformat(key["day"])
            if not user:
                continue
            # Signing up counts as being active that week, so week 0 is the whole cohort.
            active_weeks[user].add(_week_start(day))
            if key["event"] == "user.registered":
                signup_week[user] = _week_start(day)
        cohorts = []
        for index in range(weeks):
            start = first_week + timedelta(weeks=index)
            members = [u for u, week in signup_week.items() if week == start]
            span = weeks - index
            retained = [
                sum(1 for u in members if start + timedelta(weeks=k) in active_weeks[u])
                for k in range(span)
            ]
            cohorts.append(Cohort(week_start=start, size=len(members), retained=retained))
        return cohorts
