"""Privacy actors: build a requested data export; the periodic sweep that erases
accounts past their grace period, lifts expired tombstones and removes expired
export files (domain/privacy/)."""

from __future__ import annotations

import dramatiq
from loguru import logger

from workers.resources import ensure_database, get_services


def enqueue_export(job_id: str, user_id: str) -> None:
    """The ``enqueue_export`` port of the data exports (API and workers alike)."""
    build_export.send(job_id, user_id)


@dramatiq.actor(actor_name="privacy.build_export", max_retries=3, time_limit=600_000)
async def build_export(job_id: str, user_id: str) -> None:
    await ensure_database()
    await get_services().privacy.exports.build(job_id, user_id)


@dramatiq.actor(actor_name="privacy.sweep", max_retries=2, time_limit=600_000)
async def privacy_sweep() -> None:
    await ensure_database()
    privacy = get_services().privacy
    erased = await privacy.erasure.erase_due()
    files = await privacy.exports.purge_expired()
    stones = await privacy.tombstones.purge_expired()
    logger.bind(erased=erased, export_files=files, tombstones=stones).info("privacy sweep")
