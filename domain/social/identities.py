"""A user's linked identities: listed, linked by the signed-in owner, unlinked, and seen
and removed by administrators (the rank rules of every admin action).

Unlinking never removes the last way into an account: a password, a passkey, another
linked identity, or a code emailed to a verified address (where the deployment offers
emailed codes) must remain. Every link and unlink is audited (webhooks follow the audit
trail) and emailed to the owner; the provider's tokens, where kept, go with the identity.
"""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.admin_rank import require_rank_over
from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import NotFoundError
from domain.email.outbox import Outbox
from domain.identity import repository as users
from domain.identity.documents import User
from domain.identity.ways_in import Credential, WaysIn
from domain.passkeys.errors import LastSignInMethodError
from domain.social import repository
from domain.social.documents import SocialIdentity
from domain.social.errors import SocialFailure, SocialSignInFailedError
from domain.social.linking import link_identity
from domain.social.prove import ProviderGateway, check_email
from domain.social.sign_in import BegunSignIn
from domain.social.tokens import ProviderTokenVault

_NOT_YOURS = "No linked identity of this account has that id."
_LAST = "This is the only way into your account: set a password or add another way first."


async def social_identities_of(user_id: PydanticObjectId) -> list[SocialIdentity]:
    """The identities linked to an account, oldest first."""
    return await repository.of_user(user_id)


async def accounts_with_identities(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have a linked identity (``signInMethods`` of a page of
    users: one query for the page, not one ``social_identities_of`` per row)."""
    return await repository.owners_among(user_ids)


class SocialIdentities:
    def __init__(
        self,
        clock: Clock,
        gateway: ProviderGateway,
        audit: AuditService,
        outbox: Outbox,
        tokens: ProviderTokenVault,
        ways_in: WaysIn,
    ) -> None:
        self._ways_in = ways_in
        self._clock = clock
        self._gateway = gateway
        self._audit = audit
        self._outbox = outbox
        self._tokens = tokens

    async def of_user(self, user_id: PydanticObjectId) -> list[SocialIdentity]:
        return await repository.of_user(user_id)

    async def begin_link(
        self, user_id: PydanticObjectId, *, provider: object, redirect_uri: object
    ) -> BegunSignIn:
        """Raises: SocialSignInFailedError."""
        url, pending = await self._gateway.begin(provider, redirect_uri, link_user_id=str(user_id))
        return BegunSignIn(url, pending.expires_at)

    async def complete_link(
        self,
        user_id: PydanticObjectId,
        *,
        provider: object,
        code: object,
        state: object,
        error: object,
        actor: Actor,
    ) -> SocialIdentity:
        """Link the identity to the signed-in account that began this link; its email
        need not match the account's (both were proven just now).

        Raises: SocialSignInFailedError, SocialIdentityTakenError, NotFoundError."""
        pending, identity, tokens = await self._gateway.prove(
            provider, code=code, state=state, error=error
        )
        if pending.link_user_id != str(user_id):
            # Begun by another account, or as a sign-in: a callback lured into another
            # session must not link (login CSRF, RFC 9700 §4.7).
            raise SocialSignInFailedError(SocialFailure.BAD_STATE)
        check_email(self._gateway.provider(identity.provider), identity, need_verified=False)
        user = await _user(str(user_id))
        return await link_identity(
            user,
            identity,
            actor,
            clock=self._clock,
            audit=self._audit,
            outbox=self._outbox,
            proof="signed_in",
            tokens=self._tokens.seal(identity.key, tokens),
        )

    async def unlink(self, user_id: PydanticObjectId, key: str, actor: Actor) -> None:
        """Raises: NotFoundError, LastSignInMethodError."""
        identity = await _owned(user_id, key)
        user = await _user(str(user_id))
        if not await self._ways_in.remain(user, leaving=Credential.SOCIAL):
            raise LastSignInMethodError(_LAST)
        if not await repository.delete(identity.id, user_id):
            raise NotFoundError(_NOT_YOURS)
        if not await self._ways_in.remain(user):
            # A removal beside this one took the other way in: put this one back.
            await repository.insert(identity)
            raise LastSignInMethodError(_LAST)
        await self._unlinked(user, identity, actor, event="user.social_unlinked")

    async def list_for_admin(self, actor: Actor, user_id: str) -> list[SocialIdentity]:
        """Raises: NotFoundError."""
        user = await _user(user_id)
        assert user.id is not None
        await self._audit.record(
            "admin.user_identities_viewed", AuditAction.VIEW, actor=actor, target_id=str(user.id)
        )
        return await repository.of_user(user.id)

    async def remove_for_admin(self, actor: Actor, user_id: str, key: str) -> None:
        """Raises: NotFoundError, ForbiddenError. An administrator may remove the last
        way in (a compromised provider account); the owner can still reset a password."""
        user = await _user(user_id)
        assert user.id is not None
        await self._may_act_on(actor, user)
        identity = await _owned(user.id, key)
        if not await repository.delete(identity.id, user.id):
            raise NotFoundError(_NOT_YOURS)
        await self._unlinked(user, identity, actor, event="admin.user_identity_removed")

    async def _unlinked(
        self, user: User, identity: SocialIdentity, actor: Actor, *, event: str
    ) -> None:
        await self._audit.record(
            event,
            AuditAction.DELETE,
            actor=actor,
            target_id=str(user.id),
            details={"provider": identity.provider},
        )
        await self._outbox.send(
            "social_unlinked",
            user.email,
            user_id=user.id,
            name=user.first_name,
            provider=identity.provider,
        )

    async def _may_act_on(self, actor: Actor, user: User) -> None:
        await require_rank_over(self._audit, actor, str(user.id), user.role)


async def _owned(user_id: PydanticObjectId, key: object) -> SocialIdentity:
    identity = await repository.get(key) if isinstance(key, str) else None
    if identity is None or identity.user_id != user_id:
        raise NotFoundError(_NOT_YOURS)
    return identity


async def _user(user_id: str) -> User:
    user = await users.get(user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user
