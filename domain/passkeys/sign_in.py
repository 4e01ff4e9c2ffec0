"""Signing in with a passkey: usernameless, with an email, or as a password's second factor.

``begin`` hands out request options and an attempt token; the attempt's challenge is
bound to no account (usernameless: the browser offers any of this site's discoverable
passkeys), to the account an email names, or to the account whose password just opened
a second-factor challenge (then the attempt token is that challenge's token). The
options for an email look the same whether or not the address has an account or a
passkey (a decoy credential id stands in), and cost the same reads.

``finish`` takes the attempt once, finds the credential by its id, has py_webauthn
verify the assertion, applies the counter rule and opens the session through the
password sign-in's own end (``LoginService.sign_in_proven``). A passkey with user
verification is two factors at once (the device, and the PIN or biometric that
unlocked it; RFC 8176 ``hwk`` + ``user``), so a two-factor account signs in with one
gesture; without it, a two-factor account still answers its second factor (or sends the
token of a device it trusts). A passkey never answers a challenge a passkey opened.
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
from domain.core.secrets import looks_like_token, new_token
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository as users
from domain.identity.common import fingerprint
from domain.identity.documents import NO_USER, User, UserStatus
from domain.identity.errors import (
    AccountDisabledError,
    AccountLockedError,
    EmailNotVerifiedError,
)
from domain.identity.login import LoginOutcome, LoginService
from domain.identity.ports import AccountLock
from domain.identity.validation import validate_email
from domain.mfa.challenges import MfaChallenges
from domain.passkeys import repository
from domain.passkeys.challenges import ChallengeStore, PendingChallenge
from domain.passkeys.clones import clone_warning, counter_regressed
from domain.passkeys.documents import Passkey
from domain.passkeys.errors import InvalidPasskeyError, PasskeyChallengeExpiredError
from domain.passkeys.registration import listed_keys
from domain.passkeys.relying_party import Assertion, KnownKey, RelyingParty
from domain.tokens.methods import HARDWARE_KEY, USER_PRESENCE, sign_in_methods


@dataclass(frozen=True, slots=True)
class RequestOptions:
    attempt_id: str
    options_json: str
    expires_at: datetime


def methods_of(user_verified: bool) -> tuple[str, ...]:
    """RFC 8176 authentication methods of a passkey sign-in."""
    return (HARDWARE_KEY, USER_PRESENCE) if user_verified else (HARDWARE_KEY,)


class PasskeySignIn:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        relying_party: RelyingParty,
        challenges: ChallengeStore,
        *,
        login: LoginService,
        mfa_challenges: MfaChallenges,
        lockout: AccountLock,
        audit: AuditService,
        outbox: Outbox,
    ) -> None:
        self._allow_unverified = settings.allow_unverified_login
        self._clock = clock
        self._rp = relying_party
        self._challenges = challenges
        self._login = login
        self._mfa_challenges = mfa_challenges
        self._lockout = lockout
        self._audit = audit
        self._outbox = outbox

    async def begin(self, *, email: str | None, challenge_token: str | None) -> RequestOptions:
        """Raises: ValidationError (also for a challenge a passkey opened: the second
        factor must be another one), PasskeyChallengeExpiredError (a spent second-factor
        challenge)."""
        if email and challenge_token:
            raise ValidationError(
                [FieldError("email", "Give an email or a challengeToken, not both.", "ONE_ONLY")]
            )
        challenge = self._rp.new_challenge()
        if challenge_token:
            first = await self._mfa_challenges.pending(challenge_token)
            if first is None:
                raise PasskeyChallengeExpiredError
            if HARDWARE_KEY in first.first_step:
                message = "This sign-in started with a passkey: answer with a code instead."
                raise ValidationError([FieldError("challengeToken", message, "SAME_FACTOR")])
            owner = first.user_id
            keys = listed_keys(await repository.keys_of_user(PydanticObjectId(owner)))
            pending = await self._challenges.issue_sign_in(
                challenge_token, challenge, user_id=owner, second_factor=True
            )
            return self._options(challenge_token, challenge, pending, keys)
        attempt = new_token()
        if not email:
            pending = await self._challenges.issue_sign_in(
                attempt, challenge, user_id=None, second_factor=False
            )
            return self._options(attempt, challenge, pending, [])
        normalized, errors = validate_email(email)
        if errors or normalized is None:
            raise ValidationError(errors)
        user = await users.find_by_email(normalized)
        owner_id = user.id if user is not None and user.id is not None else NO_USER
        if user is not None and user.status is UserStatus.DELETED:
            owner_id = NO_USER
        # The same read for an address with or without an account (NO_USER owns nothing).
        keys = listed_keys(await repository.keys_of_user(owner_id)) or self._rp.decoy_keys(
            normalized
        )
        pending = await self._challenges.issue_sign_in(
            attempt, challenge, user_id=str(owner_id), second_factor=False
        )
        return self._options(attempt, challenge, pending, keys)

    def _options(
        self, attempt: str, challenge: bytes, pending: PendingChallenge, keys: list[KnownKey]
    ) -> RequestOptions:
        return RequestOptions(
            attempt_id=attempt,
            options_json=self._rp.authentication_options(challenge, keys),
            expires_at=pending.expires_at,
        )

    async def finish(
        self, *, attempt_id: object, credential: object, actor: Actor, device_token: object = None
    ) -> LoginOutcome:
        """Raises: PasskeyChallengeExpiredError, InvalidPasskeyError (PasskeyCloneSuspectedError
        for a counter that went back), AccountLockedError, AccountDisabledError,
        EmailNotVerifiedError."""
        if not looks_like_token(attempt_id):
            raise PasskeyChallengeExpiredError
        assert isinstance(attempt_id, str)
        assertion = self._rp.read_assertion(credential)
        pending = await self._challenges.take_sign_in(attempt_id)
        if pending is None:
            raise PasskeyChallengeExpiredError
        passkey, user = await self._owner(assertion, pending, actor)
        try:
            verified = self._rp.verify_assertion(
                assertion, challenge=pending.challenge, public_key=passkey.public_key
            )
        except InvalidPasskeyError as error:
            await self._failed(user, error.reason, actor, passkey)
            # A forged or replayed answer for a real credential counts like a wrong password.
            await self._lockout.record_failed_attempt(user, actor)
            raise
        now = self._clock.now()
        moved = not counter_regressed(passkey.sign_count, verified.new_sign_count) and (
            await repository.record_use(
                passkey,
                sign_count=verified.new_sign_count,
                backed_up=verified.credential_backed_up,
                at=now,
            )
        )
        if not moved:
            await clone_warning(
                self._audit, self._outbox, user, passkey, verified.new_sign_count, actor
            )
        if user.locked_at is not None:
            raise AccountLockedError
        if user.status is UserStatus.DEACTIVATED:
            await self._failed(user, "deactivated", actor, passkey)
            raise AccountDisabledError
        if not user.email_verified and not self._allow_unverified:
            await self._failed(user, "email_not_verified", actor, passkey)
            raise EmailNotVerifiedError
        amr = methods_of(verified.user_verified)
        await self._audit.record(
            "user.passkey_used",
            AuditAction.LOGIN,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={
                "credential": passkey.id,
                "amr": " ".join(amr),  # RFC 8176 values; the trail keeps scalars
                "after_first_factor": pending.second_factor,
            },
        )
        assert user.id is not None
        if pending.second_factor:
            first = await self._mfa_challenges.consume(attempt_id)
            if first is None:
                raise PasskeyChallengeExpiredError  # finished another way a moment ago
            both = sign_in_methods((*first.first_step, *amr), multi_factor=True)
            return await self._login.sign_in_proven(user, actor, amr=both)
        if verified.user_verified:
            amr = sign_in_methods(amr, multi_factor=True)
            return await self._login.sign_in_proven(user, actor, amr=amr)
        return await self._login.second_step(user, actor, first=amr, device_token=device_token)

    async def _owner(
        self, assertion: Assertion, pending: PendingChallenge, actor: Actor
    ) -> tuple[Passkey, User]:
        """The credential and its account, if this attempt may use them."""
        passkey = await repository.get(assertion.credential_id)
        if passkey is None:
            await self._failed(None, "unknown_credential", actor, credential=assertion)
            raise InvalidPasskeyError("unknown_credential")
        user = await users.get(passkey.user_id)
        if user is None or user.status is UserStatus.DELETED:
            await self._failed(None, "no_account", actor, credential=assertion)
            raise InvalidPasskeyError("no_account")
        if pending.user_id is not None and pending.user_id != str(passkey.user_id):
            await self._failed(user, "another_account", actor, passkey)
            raise InvalidPasskeyError("another_account")
        if assertion.user_handle is not None and assertion.user_handle != passkey.user_id.binary:
            await self._failed(user, "user_handle_mismatch", actor, passkey)
            raise InvalidPasskeyError("user_handle_mismatch")
        return passkey, user

    async def _failed(
        self,
        user: User | None,
        reason: str,
        actor: Actor,
        passkey: Passkey | None = None,
        credential: Assertion | None = None,
    ) -> None:
        details: dict[str, object] = {"reason": reason, "method": "passkey"}
        if passkey is not None:
            details["credential"] = passkey.id
        elif credential is not None:
            # Who was tried, without storing a credential id that is not ours.
            details["credential_fingerprint"] = fingerprint(credential.credential_id)
        await self._audit.record(
            "user.login_failed",
            AuditAction.LOGIN,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id) if user is not None else None,
            details=details,
        )
