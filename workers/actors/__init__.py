"""Every actor, so the broker set-up can bind them all to the broker in use."""

from __future__ import annotations

from typing import Any

from dramatiq import Actor

from workers.actors import maintenance, system

ALL_ACTORS: tuple[Actor[Any, Any], ...] = (
    system.ping,
    maintenance.purge_expired_records,
    maintenance.audit_retention,
)

PERIODIC_ACTORS: tuple[Actor[Any, Any], ...] = (
    maintenance.purge_expired_records,
    maintenance.audit_retention,
)
