"""Registration: create an account, verify its email, send the link again.

Answers that could reveal whether an email has an account are the same either way:
an email that already has an account gets the same answer (its owner gets a notice),
and the same reads and writes are made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from loguru import logger
from pymongo.errors import PyMongoError

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.breached.checker import BreachedPasswords
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import email_lookup, repository
from domain.identity.action_tokens import ActionPurpose, ActionTokens, InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.common import fingerprint, public_state, raise_if
from domain.identity.documents import User, UserStatus
from domain.identity.passwords import PasswordHasher
from domain.identity.quiet_mail import QuietMail
from domain.identity.validation import check_password_policy, validate_email, validate_name

# Whether an address is reserved after its account was erased (domain/privacy/tombstones.py).
IsReserved = Callable[[str], Awaitable[bool]]


class RegistrationService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hasher: PasswordHasher,
        mailer: Outbox,
        tokens: ActionTokens,
        quiet: QuietMail,
        audit: AuditService,
        users: CachedUsers,
        is_reserved: IsReserved,
        breached: BreachedPasswords,
    ) -> None:
        self._is_reserved = is_reserved
        self._settings = settings
        self._clock = clock
        self._hasher = hasher
        self._mailer = mailer
        self._tokens = tokens
        self._quiet = quiet
        self._audit = audit
        self._users = users
        self._breached = breached

    async def register(
        self,
        *,
        email: object,
        password: object,
        first_name: object,
        last_name: object,
        actor: Actor,
    ) -> None:
        """Create an account and send the verification email.

        Raises:
            ValidationError: with one FieldError per bad field. An email that already has
                an account is *not* an error: its owner gets a notice instead.
        """
        normalized, errors = validate_email(email)
        first, first_errors = validate_name(first_name, "firstName")
        last, last_errors = validate_name(last_name, "lastName")
        errors += first_errors + last_errors
        context = [v for v in (normalized, first, last) if v]
        if normalized:
            context.append(normalized.split("@", 1)[0])
        password_errors = check_password_policy(
            password, settings=self._settings, user_inputs=context
        )
        if not password_errors:
            password_errors = await self._breached.new_password_problems(password, "password")
        errors += password_errors
        raise_if(errors)
        assert normalized
        assert first
        assert last
        assert isinstance(password, str)

        # Hashed whether or not the email is taken, so both paths cost the same.
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(
            email=normalized,
            first_name=first,
            last_name=last,
            password_hash=password_hash,
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        # An erased account's address stays reserved for the grace period: the answer
        # (and the work) of a taken address. One _id read, made for every address.
        if await self._is_reserved(normalized):
            await self._register_existing(normalized, actor)
            return
        # The unique email index decides, in one indexed write: no lookup first. From
        # here both outcomes make the same writes and reads in the same collections
        # (the email pointed and looked up, Redis cooldown, audit, token, outbox),
        # so neither the time nor the database traffic says which it was.
        if not await repository.insert_new(user):
            await self._register_existing(normalized, actor)
            return
        assert user.id is not None
        try:
            await email_lookup.point(normalized, user.id)
        except PyMongoError:
            # Not found by its email the account could never sign in: undo, so a retry
            # registers it afresh.
            await repository.delete(user)
            raise
        # Read back as sign-in will (the taken path reads the owner the same way).
        if await repository.find_by_email(normalized) is None:
            logger.bind(user_id=str(user.id)).warning("new account not found by its email")
        # The Redis write the taken path makes for its notice cooldown (equal work).
        await self._quiet.cooldown("registered", normalized, 60)
        logger.bind(user_id=str(user.id)).info("user registered")
        await self._audit.record(
            "user.registered",
            AuditAction.CREATE,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            after=public_state(user),
        )
        await self._send_verification(user)

    async def _register_existing(self, email: str, actor: Actor) -> None:
        existing = await repository.find_by_email(email)
        if existing is not None and existing.id is not None:
            await email_lookup.point(email, existing.id)
        notify = existing is not None and await self._quiet.cooldown("exists", email, 3600)
        await self._audit.record(
            "user.register_existing",
            AuditAction.SECURITY,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(existing.id) if existing is not None else None,
        )
        if existing is not None and notify:
            await self._quiet.decoy_token(ActionPurpose.VERIFY_EMAIL)
            await self._mailer.send(
                "account_exists", existing.email, user_id=existing.id, name=existing.first_name
            )
        else:
            await self._quiet.send_nothing(ActionPurpose.VERIFY_EMAIL, "account_exists")

    async def _send_verification(self, user: User) -> None:
        assert user.id is not None
        ttl = timedelta(seconds=self._settings.email_verification_ttl_seconds)
        raw = await self._tokens.issue(
            ActionPurpose.VERIFY_EMAIL, user.id, ttl, fingerprint=fingerprint(user.email)
        )
        await self._mailer.send(
            "verify_email",
            user.email,
            user_id=user.id,
            name=user.first_name,
            link=self._mailer.link(self._settings.verify_email_path, raw),
            hours=int(ttl.total_seconds() // 3600),
        )

    async def verify_email(self, token: object, actor: Actor) -> User:
        """Raises: InvalidActionTokenError."""
        record = await self._tokens.consume(ActionPurpose.VERIFY_EMAIL, token)
        user = await repository.get(record.user_id)
        if user is None or record.fingerprint != fingerprint(user.email):
            raise InvalidActionTokenError
        if not user.email_verified:
            now = self._clock.now()
            await self._users.update(user, now, email_verified=True, email_verified_at=now)
        await self._audit.record(
            "user.verified",
            AuditAction.VERIFY,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
        )
        return user

    async def resend_verification(self, email: object) -> None:
        """Raises: ValidationError for a malformed email; otherwise always succeeds quietly."""
        normalized, errors = validate_email(email)
        raise_if(errors)
        assert normalized
        if not await self._quiet.cooldown("verify", normalized, 60):
            return
        user = await repository.find_by_email(normalized)
        if user is not None and user.status is UserStatus.ACTIVE and not user.email_verified:
            await self._send_verification(user)
        else:
            await self._quiet.send_nothing(ActionPurpose.VERIFY_EMAIL, "verify_email")
