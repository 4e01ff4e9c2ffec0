"""The account lock: ten failed sign-ins (``lockout_threshold``) lock an account.

The request whose failure reaches the threshold locks the account (``locked_at`` on
the user), audits it and emails the owner an unlock link; a locked account answers
``AccountLocked`` to every sign-in, right password or not. The link, a password reset
or an administrator unlocks it. An address without an account gets the same work and
the same answers (security review, finding 5). The count, the throttle before the
lock and the lock marker are ``counter.py``.
"""

from __future__ import annotations

from datetime import timedelta

from loguru import logger

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import RateLimitedError
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository
from domain.identity.action_tokens import ActionPurpose, ActionTokens, InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.common import fingerprint
from domain.identity.documents import NO_USER, User
from domain.identity.errors import AccountLockedError
from domain.identity.quiet_mail import QuietMail
from domain.lockout.counter import AttemptCounter


class LockoutService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        counter: AttemptCounter,
        users: CachedUsers,
        tokens: ActionTokens,
        quiet: QuietMail,
        mailer: Outbox,
        audit: AuditService,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._counter = counter
        self._users = users
        self._tokens = tokens
        self._quiet = quiet
        self._mailer = mailer
        self._audit = audit

    async def check(self, email: str) -> bool:
        """True when the address is locked.

        Raises: RateLimitedError while an unlocked address must wait. The lock answers
        before any throttle, so neither says whether the account exists.
        """
        gate = await self._counter.gate(fingerprint(email))
        if gate.wait_seconds > 0 and not gate.locked:
            wait = gate.wait_seconds
            raise RateLimitedError(wait, f"Too many failed attempts. Try again in {wait} seconds.")
        return gate.locked

    async def mark_locked(self, email: str) -> None:
        """Renew the lock marker of an address an attempt met locked."""
        await self._counter.mark_locked(fingerprint(email))

    async def record_failed_attempt(self, user: User, actor: Actor) -> None:
        """Count a wrong password or second factor; lock at the threshold.

        Raises: AccountLockedError once the account is (or just got) locked.
        """
        assert user.id is not None
        # The live count is the atomic Redis counter. The user document is written once,
        # by the request that locks: FerretDB applies an update as read, modify, write
        # back the whole document, so a failure's own write racing the lock could put
        # back the document without ``locked_at`` (50 concurrent failures did).
        failure = await self._counter.record_failure(fingerprint(user.email))
        if failure.just_locked:
            await self._lock(user, failure.count, actor)
        if failure.locked:
            raise AccountLockedError

    async def record_unknown_failure(self, email: str, actor: Actor) -> None:
        """Count a sign-in to an address without an account, as an account's would be.

        Raises: AccountLockedError once the address is (or just got) locked: an account
        would be locked by now, so answer as it would.
        """
        address = fingerprint(email)
        failure = await self._counter.record_failure(address)
        if failure.just_locked:
            await self._lock_nobody(address, failure.count, actor)
        if failure.locked:
            raise AccountLockedError

    async def clear_failures(self, email: str) -> None:
        """Forget the failures, the throttle and the marker (a sign-in succeeded)."""
        await self._counter.reset(fingerprint(email))

    async def _lock(self, user: User, attempts: int, actor: Actor) -> None:
        assert user.id is not None
        now = self._clock.now()
        await self._users.update(
            user, now, locked_at=now, failed_login_count=attempts, last_failed_login_at=now
        )
        await self._audit.record(
            "user.locked",
            AuditAction.LOCK,
            actor=actor,
            actor_type="system",
            target_id=str(user.id),
            details={"failed_attempts": attempts},
        )
        logger.bind(user_id=str(user.id)).warning("account locked after {} failures", attempts)
        ttl = timedelta(seconds=self._settings.unlock_token_ttl_seconds)
        raw = await self._tokens.issue(ActionPurpose.UNLOCK_ACCOUNT, user.id, ttl)
        await self._mailer.send(
            "account_locked",
            user.email,
            user_id=user.id,
            name=user.first_name,
            attempts=attempts,
            link=self._mailer.link(self._settings.unlock_account_path, raw),
            hours=int(ttl.total_seconds() // 3600),
        )

    async def _lock_nobody(self, address: str, attempts: int, actor: Actor) -> None:
        """What ``_lock`` does, for an address without an account: the same writes (a
        user update that matches nothing, an audit event, a token, an outbox record), so
        the locking attempt takes as long either way. The event keeps only the address's
        fingerprint, as other failures of unknown addresses do."""
        await repository.update_nobody(self._clock.now())
        await self._users.invalidate(NO_USER)
        await self._audit.record(
            "login.address_locked",
            AuditAction.LOCK,
            actor=actor,
            actor_type="system",
            result=AuditResult.FAILURE,
            details={"failed_attempts": attempts, "email_fingerprint": address},
        )
        await self._quiet.send_nothing(ActionPurpose.UNLOCK_ACCOUNT, "account_locked")

    async def unlock_with_token(self, token: object, actor: Actor) -> User:
        """Raises: InvalidActionTokenError."""
        record = await self._tokens.consume(ActionPurpose.UNLOCK_ACCOUNT, token)
        user = await repository.get(record.user_id)
        if user is None:
            raise InvalidActionTokenError
        await self.unlock(user, actor)
        return user

    async def unlock(self, user: User, actor: Actor) -> None:
        """Clear the lock and the failure count (the unlock link, a password reset and
        an administrator all end here)."""
        assert user.id is not None
        await self._users.update(user, self._clock.now(), locked_at=None, failed_login_count=0)
        await self._counter.reset(fingerprint(user.email))
        await self._tokens.revoke_all(user.id, ActionPurpose.UNLOCK_ACCOUNT)
        await self._audit.record(
            "user.unlocked", AuditAction.UNLOCK, actor=actor, target_id=str(user.id)
        )
