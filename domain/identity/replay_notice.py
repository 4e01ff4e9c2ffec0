"""The notice when a right TOTP code comes again for a step already used: it was
entered twice, or someone else saw it (ASVS 2.8.5: log it and tell the holder).

Its own object, built before the MFA service that calls it: the MFA service refuses
the replay, this records and tells, and neither needs the other's use cases.
"""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.email.outbox import Outbox
from domain.identity import repository
from domain.identity.quiet_mail import QuietMail

REPLAY_NOTICE_COOLDOWN_SECONDS = 3600


class TotpReplayNotice:
    def __init__(self, audit: AuditService, quiet: QuietMail, mailer: Outbox) -> None:
        self._audit = audit
        self._quiet = quiet
        self._mailer = mailer

    async def __call__(self, user_id: PydanticObjectId, actor: Actor) -> None:
        """Audit it and tell the user, at most once an hour (a double submit does it
        too, so the email says so)."""
        user = await repository.get(user_id)
        if user is None:
            return
        await self._audit.record(
            "user.mfa_replayed",
            AuditAction.SECURITY,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id),
        )
        if await self._quiet.cooldown("totp-replay", str(user.id), REPLAY_NOTICE_COOLDOWN_SECONDS):
            await self._mailer.send(
                "totp_replayed", user.email, user_id=user.id, name=user.first_name
            )
