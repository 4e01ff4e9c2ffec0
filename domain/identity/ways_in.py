"""Whether an account keeps a way in when one credential goes: the one rule behind
removing a passkey and unlinking a social identity (an owner's own removals; an
administrator may remove the last one, the owner can still reset a password).

A way in is a password, a passkey, a linked identity, or a code emailed to a verified
address where the deployment offers emailed codes (an unverified address may not be the
owner's: whoever registered it). TOTP is a second factor, never a way in alone. The
kinds of credential live in slices above this one (domain/passkeys, domain/social), so
the composition root hands in how to count each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum

from beanie import PydanticObjectId

from domain.identity.documents import User

CountOfUser = Callable[[PydanticObjectId], Awaitable[int]]


class Credential(StrEnum):
    PASSKEY = "passkey"
    SOCIAL = "social"


class WaysIn:
    def __init__(self, counts: Mapping[Credential, CountOfUser], *, email_sign_in: bool) -> None:
        self._counts = dict(counts)
        self._email_sign_in = email_sign_in

    async def remain(self, user: User, *, leaving: Credential | None = None) -> bool:
        """Whether ``user`` has a way in besides one credential of kind ``leaving`` (or at
        all, when ``leaving`` is None: the check after a removal, which catches a second
        removal that ran beside it)."""
        assert user.id is not None
        if user.password_hash or (self._email_sign_in and user.email_verified):
            return True
        for kind, count_of_user in self._counts.items():
            if await count_of_user(user.id) > (1 if kind is leaving else 0):
                return True
        return False
