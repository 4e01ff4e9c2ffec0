"""What a sign-in does about a breached password (``breached_password_sign_in``).

Asked only after the password proved right, so it reveals nothing about accounts or
wrong passwords (an unknown address, a wrong password: no check, the same timing as
before). ``warn``: the account is flagged (``password_breached_at``, shown as
``passwordBreached``), and the owner is emailed once, when the flag is raised.
``require``: the same, and a sign-in that used the password ends, after any second
factor, in PasswordChangeRequired carrying a short-lived password-reset token: it can
set a new password (``resetPassword``, which ends every session and clears the flag)
and nothing else. A passkey, an emailed code or a provider sign-in does not use the
password and is not held up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.breached.checker import BreachedPasswords, Verdict
from domain.core.actor import Actor
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity.action_tokens import ActionPurpose, ActionTokens
from domain.identity.cache import CachedUsers
from domain.identity.common import fingerprint
from domain.identity.documents import User
from domain.identity.errors import PasswordChangeRequiredError
from domain.tokens.methods import PASSWORD

NOTICE_CLAIM_TTL = timedelta(days=365)


class BreachedSignIn:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        breached: BreachedPasswords,
        users: CachedUsers,
        tokens: ActionTokens,
        outbox: Outbox,
        audit: AuditService,
    ) -> None:
        self._policy = settings.breached_password_sign_in
        self._ttl = timedelta(seconds=settings.breached_password_change_ttl_seconds)
        self._frontend_url = settings.frontend_url
        self._clock = clock
        self._breached = breached
        self._users = users
        self._tokens = tokens
        self._outbox = outbox
        self._audit = audit

    async def password_proved(self, user: User, password: str, actor: Actor) -> None:
        """Raise or clear the account's flag for the password that just proved right.
        An unknown verdict (the range API did not answer) leaves the flag as it was."""
        if self._policy == "off":
            return
        verdict = await self._breached.verdict(password)
        flagged = user.password_breached_at is not None
        if verdict is Verdict.UNKNOWN or (verdict is Verdict.BREACHED) == flagged:
            return
        now = self._clock.now()
        if verdict is Verdict.NOT_FOUND:
            await self._users.update(user, now, password_breached_at=None)
            return
        await self._users.update(user, now, password_breached_at=now)
        # Racing sign-ins both see the flag down: one notice for this password, decided
        # by a claim on its hash's fingerprint (a later breached password gets its own).
        key = f"password-breached:{user.id}:{fingerprint(user.password_hash)}"
        if not await claim_once(key, now=now, expires_at=now + NOTICE_CLAIM_TTL):
            return
        await self._audit.record(
            "user.password_breached",
            AuditAction.SECURITY,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={"policy": self._policy},
        )
        await self._outbox.send(
            "password_breached",
            user.email,
            user_id=user.id,
            name=user.first_name,
            required=self._policy == "require",
            url=self._frontend_url,
        )

    async def hold_if_required(self, user: User, amr: Sequence[str], actor: Actor) -> None:
        """Before a session opens: under ``require``, a flagged password sign-in ends in
        PasswordChangeRequired instead.

        Raises: PasswordChangeRequiredError.
        """
        if self._policy != "require" or PASSWORD not in amr:
            return
        if user.password_breached_at is None or user.id is None:
            return
        token = await self._tokens.issue(
            ActionPurpose.RESET_PASSWORD,
            user.id,
            self._ttl,
            fingerprint=fingerprint(user.password_hash),
        )
        await self._audit.record(
            "user.password_change_required",
            AuditAction.LOGIN,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={"amr": " ".join(amr)},
        )
        raise PasswordChangeRequiredError(token, self._clock.now() + self._ttl)
