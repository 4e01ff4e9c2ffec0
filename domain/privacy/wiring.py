"""The privacy slice's construction, called by the composition root (domain/services.py)
after the administrators' users service, whose listing it tells of deletions."""

from __future__ import annotations

from dataclasses import dataclass

from domain.admin.super_admins import SuperAdminChanges
from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity.action_tokens import ActionTokens
from domain.identity.cache import CachedUsers
from domain.privacy.deletion import AccountDeletions, ListingChanged
from domain.privacy.erasure import Erasure
from domain.privacy.export import DataExports, EnqueueExport
from domain.privacy.schedule import ErasureSchedule
from domain.privacy.subjects import PersonKeys
from domain.privacy.tombstones import Tombstones
from domain.sessions.service import SessionService

__all__ = ["EnqueueExport", "Privacy", "PrivacyBase", "build_privacy"]


@dataclass(frozen=True, slots=True)
class PrivacyBase:
    """What other slices are handed before the rest is built: the erasure schedule
    (administrators' deletions) and the tombstones (registration)."""

    keys: PersonKeys
    schedule: ErasureSchedule
    tombstones: Tombstones

    @classmethod
    def build(cls, settings: Settings, clock: Clock) -> PrivacyBase:
        keys = PersonKeys(settings)
        return cls(keys, ErasureSchedule(settings, clock), Tombstones(clock, keys))


@dataclass(frozen=True, slots=True)
class Privacy:
    exports: DataExports
    deletions: AccountDeletions
    erasure: Erasure
    schedule: ErasureSchedule
    tombstones: Tombstones


def build_privacy(
    settings: Settings,
    clock: Clock,
    base: PrivacyBase,
    *,
    link_tokens: ActionTokens,
    outbox: Outbox,
    audit: AuditService,
    users: CachedUsers,
    sessions: SessionService,
    super_admin_changes: SuperAdminChanges,
    listing_changed: ListingChanged,
    enqueue_export: EnqueueExport,
) -> Privacy:
    keys, schedule, tombstones = base.keys, base.schedule, base.tombstones
    exports = DataExports(settings, clock, link_tokens, outbox, audit, keys, enqueue_export)
    deletions = AccountDeletions(
        settings,
        clock,
        users=users,
        sessions=sessions,
        tokens=link_tokens,
        outbox=outbox,
        audit=audit,
        schedule=schedule,
        super_admin_changes=super_admin_changes,
        listing_changed=listing_changed,
    )
    erasure = Erasure(
        clock,
        schedule=schedule,
        keys=keys,
        tombstones=tombstones,
        exports=exports,
        users=users,
        audit=audit,
    )
    return Privacy(exports, deletions, erasure, schedule, tombstones)
