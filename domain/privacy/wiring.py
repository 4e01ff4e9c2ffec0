"""The privacy slice's construction, called by the composition root (domain/services.py)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity.action_tokens import ActionTokens
from domain.privacy.export import DataExports, EnqueueExport
from domain.privacy.subjects import PersonKeys


@dataclass(frozen=True, slots=True)
class Privacy:
    exports: DataExports


def build_privacy(
    settings: Settings,
    clock: Clock,
    *,
    keys: PersonKeys,
    link_tokens: ActionTokens,
    outbox: Outbox,
    audit: AuditService,
    enqueue_export: EnqueueExport,
) -> Privacy:
    return Privacy(DataExports(settings, clock, link_tokens, outbox, audit, keys, enqueue_export))
