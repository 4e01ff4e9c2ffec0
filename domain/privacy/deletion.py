"""Self-service account deletion with an undo window.

``delete_own`` (behind a recent re-authentication) ends every session, marks the
account deleted (sign-in then answers as for an address without an account, as it
does for an administrator's soft delete), schedules its erasure after the grace period
and emails the owner a link that cancels it. The last active super-admin is refused
(under the same Redis lock as the administrators' changes, so two super-admins
deleting themselves at once cannot both go). ``cancel`` restores the account as it
was: same password, same factors; only the sessions stay ended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime

from beanie import PydanticObjectId

from domain.admin import repository as admin_repository
from domain.admin.super_admins import SuperAdminChanges
from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import NotFoundError
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository as user_repository
from domain.identity.action_tokens import ActionPurpose, ActionTokens, InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.documents import User, UserStatus
from domain.privacy.errors import LastSuperAdminError
from domain.privacy.schedule import ErasureSchedule
from domain.sessions.service import SessionService

# The admin users page's per-process listing learns of the change (AdminUsers.changed).
ListingChanged = Callable[[PydanticObjectId], Awaitable[None]]


class AccountDeletions:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        users: CachedUsers,
        sessions: SessionService,
        tokens: ActionTokens,
        outbox: Outbox,
        audit: AuditService,
        schedule: ErasureSchedule,
        super_admin_changes: SuperAdminChanges,
        listing_changed: ListingChanged,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._users = users
        self._sessions = sessions
        self._tokens = tokens
        self._outbox = outbox
        self._audit = audit
        self._schedule = schedule
        self._super_admin_changes = super_admin_changes
        self._listing_changed = listing_changed

    async def delete_own(self, user_id: str, actor: Actor) -> datetime:
        """Delete the caller's account; returns when it will be erased.

        Raises: NotFoundError (no active account), LastSuperAdminError.
        """
        user = await self._active(user_id)
        async with AsyncExitStack() as stack:
            if user.role is Role.SUPER_ADMIN:
                await stack.enter_async_context(self._super_admin_changes.serialised())
                user = await self._active(user_id)  # read again under the lock
                if await admin_repository.count_other_active_super_admins(user.id) == 0:
                    await self._audit.record(
                        "user.deletion_refused",
                        AuditAction.SECURITY,
                        actor=actor,
                        target_id=user_id,
                        details={"rule": "last_super_admin"},
                    )
                    raise LastSuperAdminError
            await self._users.update(user, self._clock.now(), status=UserStatus.DELETED)
        assert user.id is not None
        await self._listing_changed(user.id)
        await self._sessions.revoke_all(user.id, reason="account_deleted", actor=actor)
        pending = await self._schedule.schedule(user.id, "self")
        raw = await self._tokens.issue(ActionPurpose.CANCEL_DELETION, user.id, self._schedule.grace)
        await self._outbox.send(
            "account_deletion_scheduled",
            user.email,
            user_id=user.id,
            name=user.first_name,
            link=self._outbox.link(self._settings.cancel_deletion_path, raw),
            days=self._schedule.grace.days,
        )
        await self._audit.record(
            "user.deletion_requested",
            AuditAction.DELETE,
            actor=actor,
            target_id=user_id,
            details={"erase_after": pending.erase_after.isoformat()},
        )
        return pending.erase_after

    async def cancel(self, raw: object, actor: Actor) -> User:
        """Restore the account the link was sent for, once.

        Raises: InvalidActionTokenError (unknown, used or expired link; the account was
        restored, or erased, meanwhile).
        """
        async with self._tokens.redeeming(ActionPurpose.CANCEL_DELETION, raw) as token:
            user = await user_repository.get(token.user_id)
            pending = await self._schedule.pending(token.user_id)
            if user is None or user.status is not UserStatus.DELETED or pending is None:
                raise InvalidActionTokenError
            await self._users.update(user, self._clock.now(), status=UserStatus.ACTIVE)
            await self._schedule.unschedule(token.user_id)
        await self._listing_changed(token.user_id)
        await self._audit.record(
            "user.deletion_cancelled",
            AuditAction.UPDATE,
            actor=actor.as_user(str(token.user_id)),
            target_id=str(token.user_id),
        )
        await self._outbox.send(
            "account_deletion_cancelled", user.email, user_id=user.id, name=user.first_name
        )
        return user

    async def _active(self, user_id: str) -> User:
        user = await user_repository.get(user_id)
        if user is None or user.id is None or user.status is not UserStatus.ACTIVE:
            raise NotFoundError("No such user.")
        return user
