"""A passkey whose signature counter did not move forward: two copies of its key may
exist. Whatever ceremony noticed it (a sign-in, a re-authentication) refuses it, audits
it and emails the owner, the same way."""

from __future__ import annotations

from typing import NoReturn

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.email.outbox import Outbox
from domain.identity.documents import User
from domain.passkeys.documents import Passkey
from domain.passkeys.errors import PasskeyCloneSuspectedError


def counter_regressed(stored: int, presented: int) -> bool:
    """WebAuthn §6.1.1: a counter that does not move forward, when either side keeps
    one, means two authenticators may hold the key. Zero on both: it keeps no counter."""
    return (stored > 0 or presented > 0) and presented <= stored


async def clone_warning(
    audit: AuditService,
    outbox: Outbox,
    user: User,
    passkey: Passkey,
    presented: int,
    actor: Actor,
) -> NoReturn:
    """Raises: PasskeyCloneSuspectedError, once the warning is audited and mailed."""
    await audit.record(
        "user.passkey_clone_warning",
        AuditAction.SECURITY,
        actor=actor,
        result=AuditResult.FAILURE,
        target_id=str(user.id),
        details={
            "credential": passkey.id,
            "stored_counter": passkey.sign_count,
            "presented_counter": presented,
        },
    )
    await outbox.send(
        "passkey_clone_warning",
        user.email,
        user_id=user.id,
        name=user.first_name,
        passkey=passkey.name,
        ip=actor.ip,
    )
    raise PasskeyCloneSuspectedError("counter_regressed")
