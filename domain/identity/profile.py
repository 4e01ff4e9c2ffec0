"""A user's profile: read it (from the cache, the hot path of ``me``) and change names."""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError
from domain.identity import repository
from domain.identity.cache import CachedUsers
from domain.identity.common import public_state, raise_if
from domain.identity.documents import User, UserStatus
from domain.identity.errors import InvalidCredentialsError
from domain.identity.validation import validate_name


class ProfileService:
    def __init__(
        self,
        clock: Clock,
        audit: AuditService,
        users: CachedUsers,
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._users = users

    async def get_user(
        self, user_id: PydanticObjectId | str, *, cached: bytes | None = None
    ) -> User | None:
        """The user, from the cache when possible (the hot path of ``me``); ``cached``:
        the copy the request's admission read (CachedUsers.get)."""
        return await self._users.get(user_id, cached=cached)

    async def update_profile(
        self,
        user_id: PydanticObjectId,
        *,
        actor: Actor,
        first_name: object = None,
        last_name: object = None,
    ) -> User:
        """Raises: ValidationError, InvalidCredentialsError (no such active user)."""
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        changes: dict[str, object] = {}
        errors: list[FieldError] = []
        for field, raw, attr in (
            ("firstName", first_name, "first_name"),
            ("lastName", last_name, "last_name"),
        ):
            if raw is None:
                continue
            value, problems = validate_name(raw, field)
            errors += problems
            if value is not None:
                changes[attr] = value
        raise_if(errors)
        if changes:
            before = public_state(user)
            await self._users.update(user, self._clock.now(), **changes)
            await self._audit.record(
                "user.profile_updated",
                AuditAction.UPDATE,
                actor=actor,
                target_id=str(user_id),
                before=before,
                after=public_state(user),
            )
        return user
