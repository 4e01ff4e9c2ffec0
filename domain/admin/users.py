"""What administrators may do to accounts, with the rules that keep them honest.

Only a higher rank acts on an account (``roles.may_act_on``): an admin acts on
instructors and students and grants only those roles; a super-admin acts on anyone,
other super-admins included, but nobody may remove the last active super-admin. Nobody
acts on their own account through these operations (their role, status and second
factor are another administrator's to change; the self-service operations remain).
Every change and every refusal is audited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from beanie import PydanticObjectId

from domain.admin import repository
from domain.admin.listing import IndexedListing, UserListing, UserPage
from domain.admin.snapshot import SnapshotListing
from domain.admin.super_admins import SuperAdminChanges
from domain.admin.user_filter import UserFilter
from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.errors import FieldError, ForbiddenError, NotFoundError, ValidationError
from domain.core.roles import Role, may_act_on, may_grant
from domain.identity import repository as user_repository
from domain.identity.cache import CachedUsers
from domain.identity.documents import User, UserStatus
from domain.lockout.service import LockoutService
from domain.mfa.service import MfaService
from domain.sessions.documents import Session
from domain.sessions.service import SessionService

# The privacy slice's erasure schedule (domain/privacy/schedule.py), given by the root.
ErasureHook = Callable[[PydanticObjectId], Awaitable[object]]


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "role": user.role.value,
        "status": user.status.value,
        "locked": user.locked_at is not None,
    }


class AdminUsers:
    def __init__(
        self,
        clock: Clock,
        audit: AuditService,
        sessions: SessionService,
        users: CachedUsers,
        mfa: MfaService,
        super_admin_changes: SuperAdminChanges,
        lockout: LockoutService,
        *,
        on_deleted: ErasureHook,
        on_restored: ErasureHook,
    ) -> None:
        # A soft-deleted account is erased after the grace period unless restored first.
        self._on_deleted = on_deleted
        self._on_restored = on_restored
        self._lockout = lockout
        self._super_admin_changes = super_admin_changes
        self._users = users
        self._mfa = mfa
        self._clock = clock
        self._audit = audit
        self._sessions = sessions
        # How the users page reads, per database flavour (domain/admin/listing.py).
        self._listings: dict[DatabaseFlavour, UserListing] = {
            DatabaseFlavour.MONGODB: IndexedListing(),
            DatabaseFlavour.FERRETDB: SnapshotListing(),
        }

    def _listing(self) -> UserListing:
        return self._listings[bound_flavour()]

    async def changed(self, user_id: PydanticObjectId) -> None:
        """Another slice changed the account (its owner deleted it, say): the users page
        shows the change."""
        await self._listing().changed(user_id)

    async def find_users(
        self, criteria: UserFilter, *, sort: str, after: str | None, limit: int
    ) -> UserPage:
        """One page after the cursor (keyset paging: stable while users come and go).

        Raises: ValidationError for a cursor that is not ours.
        """
        return await self._listing().page(criteria, sort=sort, after=after, limit=limit)

    async def count_users(self, criteria: UserFilter) -> int:
        """How many users match, whatever the page."""
        return await self._listing().count(criteria)

    async def get(self, actor: Actor, user_id: str) -> User:
        user = await user_repository.get(user_id)
        if user is None:
            raise NotFoundError("No such user.")
        await self._audit.record(
            "admin.user_viewed", AuditAction.VIEW, actor=actor, target_id=str(user.id)
        )
        return user

    async def _refuse(self, actor: Actor, user: User, rule: str, message: str) -> ForbiddenError:
        """Audit a refused admin action (failed access decisions are logged) and return
        the error to raise."""
        await self._audit.record(
            "admin.action_denied",
            AuditAction.SECURITY,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id),
            details={"rule": rule},
        )
        return ForbiddenError(message)

    async def _target(self, actor: Actor, user_id: str) -> User:
        user = await user_repository.get(user_id)
        if user is None:
            raise NotFoundError("No such user.")
        if str(user.id) == actor.user_id:
            raise await self._refuse(
                actor,
                user,
                "self_action",
                "You cannot act on your own account here; another administrator can.",
            )
        rank = _rank_of(actor)
        if not may_act_on(rank, user.role):
            rule = "target_outranks_actor" if user.role.rank > rank.rank else "same_rank"
            raise await self._refuse(
                actor, user, rule, "Only a higher rank can act on this account."
            )
        return user

    async def _ensure_not_last_super_admin(self, actor: Actor, user: User) -> None:
        if user.role is not Role.SUPER_ADMIN or user.status is not UserStatus.ACTIVE:
            return
        others = await repository.count_other_active_super_admins(user.id)
        if others == 0:
            raise await self._refuse(
                actor,
                user,
                "last_super_admin",
                "This is the last active super-admin; appoint another first.",
            )

    @asynccontextmanager
    async def _fresh_target(self, actor: Actor, user_id: str) -> AsyncIterator[User]:
        """The account, read again under the super-admin lock when it is one, so the
        last-super-admin check and the change that follows it are one step."""
        user = await self._target(actor, user_id)
        if user.role is not Role.SUPER_ADMIN:
            yield user
            return
        async with self._super_admin_changes.serialised():
            yield await self._target(actor, user_id)

    async def update(
        self, actor: Actor, user_id: str, *, role: Role | None, active: bool | None
    ) -> User:
        """Change role and/or activation. Raises: NotFoundError, ForbiddenError."""
        async with self._fresh_target(actor, user_id) as user:
            return await self._update(user, actor, role=role, active=active)

    async def _update(
        self, user: User, actor: Actor, *, role: Role | None, active: bool | None
    ) -> User:
        actor_role = _rank_of(actor)
        if user.status is UserStatus.DELETED:
            raise ValidationError([FieldError("id", "Restore the account first.", "DELETED")])
        before = _snapshot(user)
        changes: dict[str, Any] = {}
        if role is not None and role is not user.role:
            if not may_grant(actor_role, role):
                rule = "role_above_actor" if role.rank > actor_role.rank else "role_same_rank"
                raise await self._refuse(
                    actor, user, rule, "Only a higher rank can grant this role."
                )
            if role.rank < user.role.rank:
                await self._ensure_not_last_super_admin(actor, user)
            changes["role"] = role
        if active is not None:
            status = UserStatus.ACTIVE if active else UserStatus.DEACTIVATED
            if status is not user.status:
                if not active:
                    await self._ensure_not_last_super_admin(actor, user)
                changes["status"] = status
        if not changes:
            return user
        await self._users.update(user, self._clock.now(), **changes)
        assert user.id is not None
        await self._listing().changed(user.id)
        # The access token carries the role: end the sessions so nothing stale survives.
        reason = (
            "deactivated" if changes.get("status") is UserStatus.DEACTIVATED else "role_changed"
        )
        await self._sessions.revoke_all(user.id, reason=reason, actor=actor)
        await self._audit.record(
            "admin.user_updated",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user.id),
            before=before,
            after=_snapshot(user),
        )
        return user

    async def delete(self, actor: Actor, user_id: str) -> User:
        """Soft delete: hidden from lists, cannot sign in, restorable.

        Raises: NotFoundError, ForbiddenError.
        """
        async with self._fresh_target(actor, user_id) as user:
            return await self._delete(actor, user)

    async def _delete(self, actor: Actor, user: User) -> User:
        await self._ensure_not_last_super_admin(actor, user)
        before = _snapshot(user)
        await self._users.update(user, self._clock.now(), status=UserStatus.DELETED)
        assert user.id is not None
        await self._listing().changed(user.id)
        await self._sessions.revoke_all(user.id, reason="deleted", actor=actor)
        await self._on_deleted(user.id)
        await self._audit.record(
            "admin.user_deleted",
            AuditAction.DELETE,
            actor=actor,
            target_id=str(user.id),
            before=before,
            after=_snapshot(user),
        )
        return user

    async def restore(self, actor: Actor, user_id: str) -> User:
        """Raises: NotFoundError, ForbiddenError."""
        user = await self._target(actor, user_id)
        if user.status is not UserStatus.DELETED:
            return user
        before = _snapshot(user)
        await self._users.update(user, self._clock.now(), status=UserStatus.ACTIVE)
        assert user.id is not None
        await self._on_restored(user.id)
        await self._listing().changed(user.id)
        await self._audit.record(
            "admin.user_restored",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user.id),
            before=before,
            after=_snapshot(user),
        )
        return user

    async def revoke_sessions(self, actor: Actor, user_id: str) -> int:
        """Raises: NotFoundError, ForbiddenError."""
        user = await self._target(actor, user_id)
        assert user.id is not None
        return await self._sessions.revoke_all(user.id, reason="admin", actor=actor)

    async def unlock(self, actor: Actor, user_id: str) -> User:
        """Clear the lock and the failure count. Raises: NotFoundError, ForbiddenError."""
        user = await self._target(actor, user_id)
        await self._lockout.unlock(user, actor)
        assert user.id is not None
        await self._listing().changed(user.id)
        return user

    async def reset_two_factor(self, actor: Actor, user_id: str) -> User:
        """Remove the user's TOTP and backup codes (lost phone). Raises: NotFound, Forbidden."""
        user = await self._target(actor, user_id)
        assert user.id is not None
        removed = await self._mfa.reset(user.id)
        await self._audit.record(
            "admin.mfa_reset",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user.id),
            details={"had_two_factor": removed},
        )
        return user

    async def sessions_of(self, user_id: PydanticObjectId) -> list[Session]:
        return await self._sessions.list_active(user_id)


def _rank_of(actor: Actor) -> Role:
    """The acting administrator's role; the permission classes let only a signed-in
    administrator this far, so an actor without one is refused outright."""
    if actor.role is None:
        raise ForbiddenError("Only an administrator can do this.")
    return actor.role
