"""Adding a passkey to a signed-in account (the resolver has checked a recent sign-in).

``begin`` hands the browser the creation options and keeps their challenge, bound to
the account; ``finish`` takes that challenge once, has py_webauthn verify the new
credential against it, our origins and RP ID, and stores the credential. The owner is
emailed: a stolen session that adds its own passkey must not do it quietly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError, ValidationError
from domain.email.outbox import Outbox
from domain.identity import repository as users
from domain.identity.documents import User, UserStatus
from domain.identity.errors import InvalidCredentialsError
from domain.passkeys import repository
from domain.passkeys.challenges import ChallengeStore
from domain.passkeys.documents import Passkey
from domain.passkeys.errors import (
    InvalidPasskeyError,
    PasskeyAlreadyRegisteredError,
    PasskeyChallengeExpiredError,
)
from domain.passkeys.naming import DEFAULT_NAME, passkey_name
from domain.passkeys.owners import ListedKey
from domain.passkeys.relying_party import KnownKey, RelyingParty

# Enough for every device a person owns; a bound on what one account can store.
MAX_PASSKEYS_PER_ACCOUNT = 20


@dataclass(frozen=True, slots=True)
class CreationOptions:
    options_json: str
    expires_at: datetime


def known_keys(passkeys: list[Passkey]) -> list[KnownKey]:
    return [KnownKey(credential_id=p.id, transports=p.transports) for p in passkeys]


def listed_keys(keys: list[ListedKey]) -> list[KnownKey]:
    return [KnownKey(credential_id=credential, transports=t) for credential, t in keys]


class PasskeyRegistration:
    def __init__(
        self,
        clock: Clock,
        relying_party: RelyingParty,
        challenges: ChallengeStore,
        audit: AuditService,
        outbox: Outbox,
    ) -> None:
        self._clock = clock
        self._rp = relying_party
        self._challenges = challenges
        self._audit = audit
        self._outbox = outbox

    async def _active_user(self, user_id: PydanticObjectId) -> User:
        user = await users.get(user_id)
        if user is None or user.id is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        return user

    async def begin(self, user_id: PydanticObjectId) -> CreationOptions:
        """Raises: InvalidCredentialsError (no active account), ValidationError (too many)."""
        user = await self._active_user(user_id)
        existing = await repository.of_user(user_id)
        if len(existing) >= MAX_PASSKEYS_PER_ACCOUNT:
            raise ValidationError(
                [
                    FieldError(
                        "passkeys",
                        f"An account can have {MAX_PASSKEYS_PER_ACCOUNT} passkeys: "
                        "remove one first.",
                        "TOO_MANY",
                    )
                ]
            )
        challenge = self._rp.new_challenge()
        pending = await self._challenges.issue_registration(str(user_id), challenge)
        options = self._rp.registration_options(
            # The ObjectId's bytes: no email or name in what the authenticator stores as
            # the user handle, and a discoverable sign-in names the account by it.
            user_handle=user_id.binary,
            user_name=user.email,
            display_name=user.display_name,
            challenge=challenge,
            existing=known_keys(existing),
        )
        return CreationOptions(options_json=options, expires_at=pending.expires_at)

    async def finish(
        self, user_id: PydanticObjectId, *, credential: object, name: object, actor: Actor
    ) -> Passkey:
        """Raises: PasskeyChallengeExpiredError, InvalidPasskeyError (and its
        PasskeyAlreadyRegisteredError), ValidationError (the name), InvalidCredentialsError."""
        label = passkey_name(name, default=DEFAULT_NAME)
        user = await self._active_user(user_id)
        pending = await self._challenges.take_registration(str(user_id))
        if pending is None:
            raise PasskeyChallengeExpiredError
        try:
            created = self._rp.verify_registration(credential, pending.challenge)
        except InvalidPasskeyError as error:
            await self._refused(user, error.reason, actor)
            raise
        passkey = Passkey(
            _id=created.credential_id,
            user_id=user_id,
            public_key=created.public_key,
            sign_count=created.sign_count,
            transports=created.transports,
            device_type=created.device_type,
            backed_up=created.backed_up,
            aaguid=created.aaguid,
            attestation_format=created.attestation_format,
            name=label,
            created_at=self._clock.now(),
        )
        if not await repository.insert(passkey):
            await self._refused(user, "already_registered", actor)
            raise PasskeyAlreadyRegisteredError("already_registered")
        await self._audit.record(
            "user.passkey_added",
            AuditAction.CREATE,
            actor=actor,
            target_id=str(user_id),
            details={
                "credential": passkey.id,
                "name": label,
                "device_type": passkey.device_type,
                "attestation": passkey.attestation_format,
                "aaguid": passkey.aaguid,
            },
        )
        await self._outbox.send(
            "passkey_added", user.email, user_id=user.id, name=user.first_name, passkey=label
        )
        return passkey

    async def _refused(self, user: User, reason: str, actor: Actor) -> None:
        await self._audit.record(
            "user.passkey_add_failed",
            AuditAction.CREATE,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id),
            details={"reason": reason},
        )
