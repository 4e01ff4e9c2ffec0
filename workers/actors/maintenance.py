"""Maintenance actors; the scheduler (workers/scheduler.py) enqueues them periodically."""

from __future__ import annotations

import dramatiq

from domain.core.clock import SystemClock
from domain.core.settings import get_settings
from domain.maintenance.service import purge_audit, purge_expired
from workers.resources import ensure_database, get_services


@dramatiq.actor(actor_name="maintenance.purge_expired", max_retries=2, time_limit=600_000)
async def purge_expired_records() -> None:
    await ensure_database()
    await purge_expired(SystemClock().now())


@dramatiq.actor(actor_name="maintenance.audit_retention", max_retries=2, time_limit=600_000)
async def audit_retention() -> None:
    await ensure_database()
    await purge_audit(
        get_services().audit, SystemClock().now(), get_settings().audit_retention_days
    )


@dramatiq.actor(actor_name="impersonation.sweep", max_retries=2, time_limit=600_000)
async def sweep_impersonations() -> None:
    """Record the end of impersonations that expired or whose administrator's session
    ended (domain/impersonation/service.py)."""
    await ensure_database()
    await get_services().impersonation.sweep()
