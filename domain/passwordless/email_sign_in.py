"""Signing in with a code or link emailed to the address (``requestEmailSignIn``,
``completeEmailSignIn``).

``request`` answers every well-formed address alike and does the same work for each:
one email lookup, a pending sign-in written to Redis (for the nobody id when the
address has no active, unlocked account), one audit record and one outbox record (sent,
or suppressed). So neither the answer, the time nor the database traffic says whether
an account exists (the rule of registration and reset, domain/identity/quiet_mail.py).

``complete`` takes the address and its 6-digit code, or the link's token alone (so it
works on another device than the one that asked); single use, ``email_sign_in_ttl``
(10 minutes), and a wrong code counts toward the code's own limit (the fifth ends it)
and toward the account lock, like a wrong password; the lock and its throttle answer
first, as for a password. The sign-in then goes on as any first step does
(``LoginService.second_step``): a two-factor account still answers its second factor
(``MfaRequired``), unless the device is trusted. RFC 8176 has no value for email: the
session's ``amr`` says ``otp``.

The first use verifies the address. An account that was unverified never could sign in
with its password (unless the deployment allows unverified sign-ins), and that password
was chosen by whoever registered the address, not necessarily its owner (account
pre-hijacking: register a victim's address, wait for the victim to sign in by email,
then use the password). So in that case the password is removed, every session and
trusted device ends, and the owner is emailed that they can set a password by resetting
it: such an account signs in without a password until then.
"""

from __future__ import annotations

import re
from datetime import datetime

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError, ValidationError
from domain.core.secrets import looks_like_token
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository as users
from domain.identity.action_tokens import InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.common import fingerprint
from domain.identity.documents import NO_USER, User, UserStatus
from domain.identity.errors import AccountDisabledError, AccountLockedError
from domain.identity.login import LoginOutcome, LoginService, has_password
from domain.identity.ports import AccountLock
from domain.identity.validation import validate_email
from domain.passwordless.codes import Attempt, EmailCodes, Verdict
from domain.passwordless.errors import (
    EmailCodeExpiredError,
    EmailSignInDisabledError,
    InvalidEmailCodeError,
)
from domain.sessions.service import SessionService
from domain.tokens.methods import ONE_TIME_CODE

_CODE = re.compile(r"[0-9]{6}")
_LINK_EXPIRED = "This sign-in link has expired or was already used. Ask for a new one."


def _normalized_code(code: object) -> str | None:
    if not isinstance(code, str) or len(code) > 32:
        return None
    compact = "".join(code.split())
    return compact if _CODE.fullmatch(compact) else None


class EmailSignIn:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        codes: EmailCodes,
        *,
        login: LoginService,
        sessions: SessionService,
        lockout: AccountLock,
        users: CachedUsers,
        audit: AuditService,
        outbox: Outbox,
    ) -> None:
        self._enabled = settings.email_sign_in_enabled
        self._allow_unverified = settings.allow_unverified_login
        self._ttl_minutes = settings.email_sign_in_ttl_seconds // 60
        self._path = settings.email_sign_in_path
        self._clock = clock
        self._codes = codes
        self._login = login
        self._sessions = sessions
        self._lockout = lockout
        self._users = users
        self._audit = audit
        self._outbox = outbox

    def _require_enabled(self) -> None:
        if not self._enabled:
            raise EmailSignInDisabledError

    async def request(self, email: object, actor: Actor) -> datetime:
        """Email a code and a link if the address has an account; the same work and the
        same answer (when they expire) either way.

        Raises: EmailSignInDisabledError, ValidationError (a malformed address).
        """
        self._require_enabled()
        normalized, errors = validate_email(email)
        if errors or normalized is None:
            raise ValidationError(errors)
        user = await users.find_by_email(normalized)
        eligible = (
            user is not None
            and user.id is not None
            and user.status is UserStatus.ACTIVE
            and user.locked_at is None
        )
        owner = str(user.id) if eligible and user is not None else str(NO_USER)
        issued = await self._codes.issue(normalized, fingerprint(normalized), owner)
        details: dict[str, object] = {"method": "email_code"}
        if not eligible:
            details["email_fingerprint"] = fingerprint(normalized)
        await self._audit.record(
            "user.email_sign_in_requested",
            AuditAction.LOGIN,
            actor=actor,
            target_id=owner if eligible else None,
            details=details,
        )
        if eligible and user is not None:
            await self._outbox.send(
                "email_sign_in",
                user.email,
                user_id=user.id,
                name=user.first_name,
                code=issued.code,
                link=self._outbox.link(self._path, issued.link_token),
                minutes=self._ttl_minutes,
            )
        else:
            await self._outbox.send_nothing("email_sign_in")
        return issued.expires_at

    async def complete(
        self,
        *,
        email: object,
        code: object,
        token: object,
        actor: Actor,
        device_token: object = None,
    ) -> LoginOutcome:
        """The address and its code, or the link's token alone (not both).

        Raises: what ``complete_with_code`` or ``complete_with_link`` raise.
        """
        if token is not None:
            if email is not None or code is not None:
                message = "Give the email and its code, or the link's token, not both."
                raise ValidationError([FieldError("token", message, "ONE_ONLY")])
            return await self.complete_with_link(
                token=token, actor=actor, device_token=device_token
            )
        return await self.complete_with_code(
            email=email, code=code, actor=actor, device_token=device_token
        )

    async def complete_with_code(
        self, *, email: object, code: object, actor: Actor, device_token: object = None
    ) -> LoginOutcome:
        """Raises: EmailSignInDisabledError, ValidationError, RateLimitedError (the lock's
        throttle), AccountLockedError, InvalidEmailCodeError (EmailCodeExpiredError when no
        code is live), AccountDisabledError."""
        self._require_enabled()
        normalized, errors = validate_email(email)
        presented = _normalized_code(code)
        if presented is None:
            errors.append(FieldError("code", "Enter the 6-digit code from the email.", "INVALID"))
        if errors or normalized is None or presented is None:
            raise ValidationError(errors)
        # The lock and its throttle answer first, for accounts and non-accounts alike.
        locked = await self._lockout.check(normalized)
        user = await users.find_by_email(normalized)
        if user is not None and user.status is UserStatus.DELETED:
            user = None
        if locked or (user is not None and user.locked_at is not None):
            await self._failed(user, "locked", actor, normalized)
            await self._lockout.mark_locked(normalized)
            raise AccountLockedError
        attempt = await self._codes.take_code(normalized, fingerprint(normalized), presented)
        if attempt.verdict is not Verdict.TAKEN:
            await self._refuse(attempt, user, actor, normalized)
        return await self._signed_in(attempt, actor, device_token)

    async def complete_with_link(
        self, *, token: object, actor: Actor, device_token: object = None
    ) -> LoginOutcome:
        """Raises: EmailSignInDisabledError, InvalidActionTokenError, AccountLockedError,
        AccountDisabledError."""
        self._require_enabled()
        if not looks_like_token(token):
            raise InvalidActionTokenError(_LINK_EXPIRED)
        assert isinstance(token, str)
        attempt = await self._codes.take_link(token)
        if attempt.verdict is not Verdict.TAKEN:
            await self._failed(None, "link_expired", actor)
            raise InvalidActionTokenError(_LINK_EXPIRED)
        return await self._signed_in(attempt, actor, device_token)

    async def _refuse(self, attempt: Attempt, user: User | None, actor: Actor, email: str) -> None:
        """Raises the refusal of a code that did not take the sign-in."""
        if attempt.verdict is Verdict.NONE:
            # Nothing live to guess against (or a race lost): nothing to count.
            await self._failed(user, "email_code_expired", actor, email)
            raise EmailCodeExpiredError
        await self._failed(user, "wrong_email_code", actor, email)
        # Counted like a wrong password (raises AccountLockedError at the threshold).
        if user is not None:
            await self._lockout.record_failed_attempt(user, actor)
        else:
            await self._lockout.record_unknown_failure(email, actor)
        if attempt.ended:
            raise EmailCodeExpiredError(
                "Too many wrong codes: this one no longer works. Ask for a new one."
            )
        raise InvalidEmailCodeError

    async def _signed_in(
        self, attempt: Attempt, actor: Actor, device_token: object
    ) -> LoginOutcome:
        user = await users.get(attempt.user_id) if attempt.user_id else None
        if user is None or user.id is None or user.id == NO_USER:
            raise EmailCodeExpiredError
        if user.status is UserStatus.DELETED:
            raise EmailCodeExpiredError
        if user.locked_at is not None:
            raise AccountLockedError
        if user.status is UserStatus.DEACTIVATED:
            await self._failed(user, "deactivated", actor)
            raise AccountDisabledError
        if not user.email_verified:
            await self._verify_address(user, actor)
        return await self._login.second_step(
            user, actor, first=(ONE_TIME_CODE,), device_token=device_token
        )

    async def _verify_address(self, user: User, actor: Actor) -> None:
        """The code proved the mailbox: the address is verified. A password set while it
        was not (and could not be used) is removed: see the module's docstring."""
        assert user.id is not None
        now = self._clock.now()
        remove_password = has_password(user) and not self._allow_unverified
        changes: dict[str, object] = {"email_verified": True, "email_verified_at": now}
        if remove_password:
            changes |= {
                "password_hash": "",
                "password_history": [user.password_hash, *user.password_history],
                "password_changed_at": now,
            }
        await self._users.update(user, now, **changes)
        who = actor.as_user(str(user.id))
        await self._audit.record(
            "user.verified",
            AuditAction.VERIFY,
            actor=who,
            target_id=str(user.id),
            details={"method": "email_code", "credential_removed": remove_password},
        )
        if remove_password:
            await self._sessions.revoke_all(user.id, reason="email_verified_by_code", actor=who)
            await self._outbox.send(
                "password_removed", user.email, user_id=user.id, name=user.first_name
            )

    async def _failed(self, user: User | None, reason: str, actor: Actor, email: str = "") -> None:
        details: dict[str, object] = {"reason": reason, "method": "email_code"}
        if user is None and email:
            details["email_fingerprint"] = fingerprint(email)
        await self._audit.record(
            "user.login_failed",
            AuditAction.LOGIN,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id) if user is not None else None,
            details=details,
        )
