"""A passkey as the proof ``reauthenticate`` asks for before a lasting-control change.

``begin`` hands a signed-in session request options offering its account's passkeys,
with a challenge bound to that session (one in flight per session, a new one replacing
it); ``prove`` takes the challenge once, checks that the credential is one of the
account's, has py_webauthn verify the assertion and applies the counter rule, as a
sign-in does. The session's new ``auth_time`` is then recorded by
``domain/identity/reauthentication.py``, which asks this module through its
``PasskeyProof`` port (identity cannot import this slice: this slice imports identity).

A wrong answer (another account's credential, a bad signature, a wrong origin, a
malformed answer) is audited and counts toward the account lock like a wrong password;
a spent or expired challenge does not (nothing was guessed).
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
from domain.identity.documents import User
from domain.identity.ports import AccountLock
from domain.passkeys import repository
from domain.passkeys.challenges import ChallengeStore
from domain.passkeys.clones import clone_warning, counter_regressed
from domain.passkeys.errors import InvalidPasskeyError, PasskeyChallengeExpiredError
from domain.passkeys.registration import listed_keys
from domain.passkeys.relying_party import RelyingParty


@dataclass(frozen=True, slots=True)
class ReauthenticationOptions:
    options_json: str
    expires_at: datetime


class PasskeyReauthentication:
    def __init__(
        self,
        clock: Clock,
        relying_party: RelyingParty,
        challenges: ChallengeStore,
        *,
        lockout: AccountLock,
        audit: AuditService,
        outbox: Outbox,
    ) -> None:
        self._clock = clock
        self._rp = relying_party
        self._challenges = challenges
        self._lockout = lockout
        self._audit = audit
        self._outbox = outbox

    async def has_passkey(self, user_id: PydanticObjectId) -> bool:
        return bool(await repository.keys_of_user(user_id))

    async def begin(self, user_id: PydanticObjectId, session_id: str) -> ReauthenticationOptions:
        """Raises: ValidationError (the account has no passkey)."""
        keys = listed_keys(await repository.keys_of_user(user_id))
        if not keys:
            raise ValidationError(
                [FieldError("passkey", "This account has no passkey.", "NO_PASSKEY")]
            )
        challenge = self._rp.new_challenge()
        pending = await self._challenges.issue_reauthentication(session_id, str(user_id), challenge)
        return ReauthenticationOptions(
            options_json=self._rp.authentication_options(challenge, keys),
            expires_at=pending.expires_at,
        )

    async def prove(self, user: User, session_id: str, credential: object, actor: Actor) -> None:
        """Check the session's answer with one of ``user``'s passkeys.

        Raises: PasskeyChallengeExpiredError, InvalidPasskeyError (PasskeyCloneSuspectedError
        for a counter that went back), AccountLockedError (a wrong answer reached the lock).
        """
        assert user.id is not None
        pending = await self._challenges.take_reauthentication(session_id)
        if pending is None or pending.user_id != str(user.id):
            raise PasskeyChallengeExpiredError
        try:
            assertion = self._rp.read_assertion(credential)
            passkey = await repository.get(assertion.credential_id)
            if passkey is None or passkey.user_id != user.id:
                raise InvalidPasskeyError("not_this_account")
            if assertion.user_handle is not None and assertion.user_handle != user.id.binary:
                raise InvalidPasskeyError("user_handle_mismatch")
            verified = self._rp.verify_assertion(
                assertion, challenge=pending.challenge, public_key=passkey.public_key
            )
        except InvalidPasskeyError as error:
            await self._audit.record(
                "user.reauthentication_failed",
                AuditAction.SECURITY,
                actor=actor.as_user(str(user.id)),
                result=AuditResult.FAILURE,
                target_id=str(user.id),
                details={"method": "passkey", "reason": error.reason},
            )
            # A stolen session guessing counts toward the lock like a wrong password.
            await self._lockout.record_failed_attempt(user, actor)
            raise
        moved = not counter_regressed(passkey.sign_count, verified.new_sign_count) and (
            await repository.record_use(
                passkey,
                sign_count=verified.new_sign_count,
                backed_up=verified.credential_backed_up,
                at=self._clock.now(),
            )
        )
        if not moved:
            await clone_warning(
                self._audit, self._outbox, user, passkey, verified.new_sign_count, actor
            )
