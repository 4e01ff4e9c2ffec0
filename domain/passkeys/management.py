"""A user's passkeys, seen and changed by their owner or by an administrator.

The owner lists, renames and removes their own (removal needs a recent sign-in, which
the resolver checks); never the last way into the account (domain/identity/ways_in.py:
a password, another passkey, a linked identity, or emailed codes to a verified address). An
administrator lists and removes a user's passkeys under the same rank rules as every
admin action (``roles.may_act_on``; never their own account here), and may remove the
last one: the owner can still set a password through a reset email. Every removal
emails the owner, is audited, and ends the account's trusted devices (a factor changed).
"""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.admin_rank import require_rank_over
from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.errors import NotFoundError
from domain.email.outbox import Outbox
from domain.identity import repository as users
from domain.identity.documents import User
from domain.identity.ways_in import Credential, WaysIn
from domain.mfa.trusted_devices import TrustedDevices
from domain.passkeys import repository
from domain.passkeys.documents import Passkey
from domain.passkeys.errors import LastSignInMethodError
from domain.passkeys.naming import passkey_name

_NOT_YOURS = "No passkey of this account has that id."


class PasskeyManagement:
    def __init__(
        self, audit: AuditService, outbox: Outbox, trusted: TrustedDevices, ways_in: WaysIn
    ) -> None:
        self._ways_in = ways_in
        self._audit = audit
        self._outbox = outbox
        self._trusted = trusted

    async def of_user(self, user_id: PydanticObjectId) -> list[Passkey]:
        return await repository.of_user(user_id)

    async def rename(
        self, user_id: PydanticObjectId, credential_id: str, name: object, actor: Actor
    ) -> Passkey:
        """Raises: ValidationError (the name), NotFoundError."""
        label = passkey_name(name)
        passkey = await self._owned(user_id, credential_id)
        if not await repository.rename(passkey.id, user_id, label):
            raise NotFoundError(_NOT_YOURS)
        await self._audit.record(
            "user.passkey_renamed",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user_id),
            before={"name": passkey.name},
            after={"name": label},
            details={"credential": passkey.id},
        )
        renamed: Passkey = passkey.model_copy(update={"name": label})
        return renamed

    async def remove(self, user_id: PydanticObjectId, credential_id: str, actor: Actor) -> None:
        """Raises: NotFoundError, LastSignInMethodError."""
        passkey = await self._owned(user_id, credential_id)
        user = await users.get(user_id)
        if user is None:
            raise NotFoundError(_NOT_YOURS)
        if not await self._ways_in.remain(user, leaving=Credential.PASSKEY):
            raise LastSignInMethodError
        if not await repository.delete(passkey.id, user_id):
            raise NotFoundError(_NOT_YOURS)
        if not await self._ways_in.remain(user):
            # Another removal ran beside this one and took the other passkey: put this
            # one back rather than leave the account with no way in.
            await repository.insert(passkey)
            raise LastSignInMethodError
        await self._removed(user, passkey, actor, event="user.passkey_removed")

    async def list_for_admin(self, actor: Actor, user_id: str) -> list[Passkey]:
        """Raises: NotFoundError."""
        user = await _user(user_id)
        assert user.id is not None
        await self._audit.record(
            "admin.user_passkeys_viewed", AuditAction.VIEW, actor=actor, target_id=str(user.id)
        )
        return await repository.of_user(user.id)

    async def remove_for_admin(self, actor: Actor, user_id: str, credential_id: str) -> None:
        """Raises: NotFoundError, ForbiddenError."""
        user = await _user(user_id)
        assert user.id is not None
        await self._may_act_on(actor, user)
        passkey = await self._owned(user.id, credential_id)
        if not await repository.delete(passkey.id, user.id):
            raise NotFoundError(_NOT_YOURS)
        await self._removed(user, passkey, actor, event="admin.user_passkey_removed")

    async def _owned(self, user_id: PydanticObjectId, credential_id: str) -> Passkey:
        passkey = await repository.get(credential_id) if isinstance(credential_id, str) else None
        if passkey is None or passkey.user_id != user_id:
            raise NotFoundError(_NOT_YOURS)
        return passkey

    async def _removed(self, user: User, passkey: Passkey, actor: Actor, *, event: str) -> None:
        await self._audit.record(
            event,
            AuditAction.DELETE,
            actor=actor,
            target_id=str(user.id),
            details={"credential": passkey.id, "name": passkey.name},
        )
        await self._outbox.send(
            "passkey_removed",
            user.email,
            user_id=user.id,
            name=user.first_name,
            passkey=passkey.name,
        )
        assert user.id is not None
        await self._trusted.end_all(user.id, "passkey_removed", actor)

    async def _may_act_on(self, actor: Actor, user: User) -> None:
        await require_rank_over(self._audit, actor, str(user.id), user.role)


async def _user(user_id: str) -> User:
    user = await users.get(user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user
