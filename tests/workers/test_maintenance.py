"""Maintenance: expiry and retention sweeps on FerretDB, and the scheduler's single round."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import redis as sync_redis
from beanie import PydanticObjectId

from domain.audit.documents import AuditAction, AuditEvent, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.claims import Claim
from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from domain.identity.action_tokens import ActionPurpose, ActionToken
from domain.impersonation.documents import ImpersonationRecord
from domain.maintenance.service import purge_audit, purge_expired
from domain.sessions.documents import RefreshRotation, RefreshToken, Session

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def test_purge_expired_keeps_live_records(database: None) -> None:
    uid = PydanticObjectId()
    old, fresh = NOW - timedelta(days=1), NOW + timedelta(days=1)
    await Claim(_id="old", created_at=old, expires_at=old).insert()
    await Claim(_id="fresh", created_at=old, expires_at=fresh).insert()
    for name, expiry in (("t-old", old), ("t-new", fresh)):
        await ActionToken(
            _id=name,
            purpose=ActionPurpose.VERIFY_EMAIL,
            user_id=uid,
            created_at=old,
            expires_at=expiry,
        ).insert()
    session = Session(
        user_id=uid,
        device="d",
        user_agent="",
        ip="",
        created_at=old,
        last_seen_at=old,
        expires_at=NOW - timedelta(days=40),
    )
    live = Session(
        user_id=uid,
        device="d",
        user_agent="",
        ip="",
        created_at=old,
        last_seen_at=old,
        expires_at=fresh,
    )
    await session.insert()
    await live.insert()
    assert live.id is not None
    await RefreshToken(
        _id="r-old",
        session_id=live.id,
        user_id=uid,
        generation=1,
        created_at=old,
        idle_expires_at=old,
    ).insert()
    for generation, expiry in ((2, old), (3, fresh)):
        await RefreshRotation(
            _id=f"{live.id}:{generation}", user_id=uid, at=old, context="c", expires_at=expiry
        ).insert()

    ended_at = {"i-old": old - timedelta(days=31), "i-new": NOW - timedelta(days=1), "i-open": None}
    for key, ended in ended_at.items():
        await ImpersonationRecord(
            _id=PydanticObjectId(),
            admin_id=key,
            admin_session_id="s",
            user_id=str(uid),
            reason="r",
            read_only=True,
            started_at=ended or NOW,
            expires_at=ended or NOW,
            ended_at=ended,
        ).insert()

    counts = await purge_expired(NOW)
    assert counts == {
        "claims": 1,
        "action_tokens": 1,
        "refresh_tokens": 1,
        "refresh_families": 0,
        "refresh_rotations": 1,
        "sessions": 1,
        "impersonations": 1,
    }
    left = sorted(r.admin_id for r in await ImpersonationRecord.find_all().to_list())
    assert left == ["i-new", "i-open"]
    assert await Claim.get("fresh") is not None
    assert await ActionToken.get("t-new") is not None
    assert await Session.get(live.id) is not None
    assert await RefreshRotation.get(f"{live.id}:3") is not None
    assert await purge_expired(NOW) == dict.fromkeys(counts, 0)


async def test_audit_retention(database: None) -> None:
    service = AuditService(FrozenClock(NOW - timedelta(days=400)))
    await service.record("user.login", AuditAction.LOGIN, actor=Actor.system(), target_id="a")
    service = AuditService(FrozenClock(NOW - timedelta(days=10)))
    await service.record(
        "user.login", AuditAction.LOGIN, actor=Actor.system(), result=AuditResult.FAILURE
    )
    assert await purge_audit(service, NOW, retention_days=365) == 1
    remaining = await AuditEvent.find_all().to_list()
    assert [e.occurred_at.date() for e in remaining] == [(NOW - timedelta(days=10)).date()]


def test_scheduler_enqueues_each_round_once(make_settings: Callable[..., Settings]) -> None:
    from workers.actors import PERIODIC_ACTORS
    from workers.broker import queue_depths, setup_broker
    from workers.scheduler import run_round

    settings = make_settings(maintenance_interval_seconds=60)
    broker = setup_broker(settings)
    broker.flush_all()
    client = sync_redis.Redis.from_url(settings.redis_url.get_secret_value())
    try:
        now = time.time()
        assert run_round(settings, client, now) is True
        assert run_round(settings, client, now) is False  # a second scheduler, same round
        # One message per periodic actor of the default queue, whichever they are.
        periodic = [a for a in PERIODIC_ACTORS if a.queue_name == "default"]
        assert queue_depths(broker, "default")["waiting"] == len(periodic) >= 3
        assert run_round(settings, client, now + 60) is True
    finally:
        broker.flush_all()
        broker.close()
        client.close()
