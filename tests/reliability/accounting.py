"""Nothing lost: compare what the server acknowledged with what the database, the SMTP
sink and the webhook receiver hold once the queues have settled."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import AsyncMongoClient

from tests.api.identity_ops import ME, REFRESH
from tests.reliability.cluster import Cluster
from tests.reliability.workload import Ledger, Workload


@dataclass
class Accounting:
    users_lost: list[str] = field(default_factory=list)
    verifications_lost: list[str] = field(default_factory=list)
    emails_requested: int = 0
    emails_lost: list[str] = field(default_factory=list)
    email_duplicates: dict[str, int] = field(default_factory=dict)
    webhook_events: int = 0
    webhook_delivered: int = 0
    webhook_failed_visibly: int = 0
    webhook_lost: list[str] = field(default_factory=list)
    webhook_duplicates: int = 0
    revoked_checked: int = 0
    revoked_accepted: int = 0
    settle_seconds: float = 0.0

    @property
    def writes_lost(self) -> int:
        return (
            len(self.users_lost)
            + len(self.verifications_lost)
            + len(self.emails_lost)
            + len(self.webhook_lost)
        )

    @property
    def duplicates(self) -> int:
        """Emails sent twice (the exactly-once target); webhook repeats are counted apart:
        their contract is at-least-once with an event id (README)."""
        return sum(self.email_duplicates.values())


async def _settled(database: Any, prefix: str, since: datetime, seconds: float) -> float:
    """Until no email of this run is queued or sending and no webhook delivery is pending;
    how long that took."""
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        emails = await database.email_messages.count_documents(
            {"to": {"$regex": f"^{prefix}\\."}, "status": {"$in": ["queued", "sending"]}}
        )
        pending = await database.webhook_deliveries.count_documents(
            {"status": "pending", "created_at": {"$gte": since}}
        )
        if emails == 0 and pending == 0:
            break
        await asyncio.sleep(0.25)
    return time.monotonic() - started


async def _revoked_accepted(workload: Workload, ledger: Ledger) -> tuple[int, int]:
    """Tokens of logged-out sessions must stay refused after every fault."""
    gate = asyncio.Semaphore(16)
    accepted = 0

    async def check(access: str, refresh: str) -> None:
        nonlocal accepted
        async with gate:
            me = await workload.request(
                "check_me", ME, token=access, field_name="me", expect_code="UNAUTHENTICATED"
            )
            renewed = await workload.request(
                "check_refresh", REFRESH, {"token": refresh}, field_name="refreshToken"
            )
        if me is not None or (renewed or {}).get("__typename") == "AuthPayload":
            accepted += 1

    await asyncio.gather(*(check(a, r) for a, r in ledger.logged_out))
    return len(ledger.logged_out), accepted


async def account(
    cluster: Cluster,
    workload: Workload,
    since: datetime,
    settle_seconds: float = 90,
) -> Accounting:
    result = Accounting()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        cluster.settings.mongodb_url.get_secret_value(), serverSelectionTimeoutMS=10_000
    )
    try:
        database = client[cluster.settings.mongodb_database]
        prefix = workload.prefix
        result.settle_seconds = await _settled(database, prefix, since, settle_seconds)
        ledger = workload.ledger

        users = {
            doc["email"]: doc
            async for doc in database.users.find(
                {"email": {"$regex": f"^{prefix}\\."}}, {"email": 1, "email_verified": 1}
            )
        }
        result.users_lost = sorted(ledger.registered - users.keys())
        result.verifications_lost = sorted(
            e for e in ledger.verified if not users.get(e, {}).get("email_verified")
        )

        requested: Counter[str] = Counter()
        async for doc in database.email_messages.find(
            {"to": {"$regex": f"^{prefix}\\."}}, {"to": 1, "status": 1}
        ):
            requested[doc["to"]] += 1
        delivered = Counter(to for mail in cluster.inbox.all() for to in mail.to)
        result.emails_requested = sum(requested.values())
        for to, count in requested.items():
            if delivered[to] < count:
                result.emails_lost.append(to)
            elif delivered[to] > count:
                result.email_duplicates[to] = delivered[to] - count
        # An acknowledged registration asked for a verification email.
        result.emails_lost += sorted(ledger.registered - requested.keys())

        recent = {"created_at": {"$gte": since}}
        events = [e["_id"] async for e in database.webhook_events.find(recent)]
        failed = {
            d["event_id"]
            async for d in database.webhook_deliveries.find(
                {"status": "failed", "created_at": {"$gte": since}}, {"event_id": 1}
            )
        }
        received = Counter(r.headers.get("gatehouse-event-id") for r in cluster.receiver.requests)
        result.webhook_events = len(events)
        result.webhook_delivered = sum(1 for e in events if received[e])
        result.webhook_failed_visibly = sum(1 for e in events if not received[e] and e in failed)
        result.webhook_lost = [e for e in events if not received[e] and e not in failed]
        result.webhook_duplicates = sum(received[e] - 1 for e in events if received[e] > 1)

        result.revoked_checked, result.revoked_accepted = await _revoked_accepted(workload, ledger)
    finally:
        await client.close()
    return result
