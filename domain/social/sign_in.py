"""Signing in with a provider: a returning identity, a new account, or a link request.

- An identity already linked signs its account in (the lock, deactivation and the
  second factor apply as to a password sign-in: the first step is the provider, RFC 8176
  ``amr`` ``fed``, handed to ``LoginService.second_step``; a provider's asserted MFA counts
  only where the deployment trusts that provider with ``trust_provider_mfa``).
- A new identity whose verified email has no account creates one: no password, the
  email verified (only a provider-verified email gets this far), the provider's name.
- A new identity whose verified email already has an account is never linked on its
  own (pre-account takeover): the answer is ``LinkRequired`` with a link token; the
  person proves they own the account (linking.py), and then it is linked.

A trusted device (``deviceToken``) skips the second factor as it does for a password.
The provider's tokens are kept (sealed) only where the deployment asks (tokens.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.identity import repository as users
from domain.identity.documents import User, UserStatus
from domain.identity.errors import AccountDisabledError, AccountLockedError
from domain.identity.login import LoginOutcome, LoginService
from domain.identity.registration import IsReserved
from domain.social import repository
from domain.social.accounts import create_social_user
from domain.social.documents import SealedProviderTokens, SocialIdentity
from domain.social.errors import SocialFailure, SocialSignInFailedError
from domain.social.linking import LinkRequests
from domain.social.presets import Provider
from domain.social.profile import ExternalIdentity
from domain.social.prove import ProviderGateway, check_email
from domain.social.tokens import ProviderTokenVault
from domain.tokens.methods import sign_in_methods


@dataclass(frozen=True, slots=True)
class BegunSignIn:
    authorization_url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkRequired:
    link_token: str
    provider: str
    expires_at: datetime


SocialOutcome = LoginOutcome | LinkRequired

# RFC 8176 registers no method for "signed in at another identity provider"; ``fed`` is
# the value Microsoft Entra ID writes for a federated sign-in, and no registered value
# means anything else. A trusted provider MFA adds ``mfa``; a second factor here, ``otp``.
FEDERATED = "fed"


class SocialSignIn:
    def __init__(
        self,
        clock: Clock,
        gateway: ProviderGateway,
        links: LinkRequests,
        *,
        login: LoginService,
        audit: AuditService,
        tokens: ProviderTokenVault,
        is_reserved: IsReserved,
    ) -> None:
        self._is_reserved = is_reserved
        self._clock = clock
        self._gateway = gateway
        self._links = links
        self._login = login
        self._audit = audit
        self._tokens = tokens

    def providers(self) -> list[Provider]:
        return [self._gateway.providers[name] for name in sorted(self._gateway.providers)]

    async def begin(self, *, provider: object, redirect_uri: object) -> BegunSignIn:
        """Raises: SocialSignInFailedError."""
        url, pending = await self._gateway.begin(provider, redirect_uri)
        return BegunSignIn(url, pending.expires_at)

    async def complete(
        self,
        *,
        provider: object,
        code: object,
        state: object,
        error: object,
        actor: Actor,
        device_token: object = None,
    ) -> SocialOutcome:
        """``device_token``: a trusted device of the account skips its second factor.

        Raises: SocialSignInFailedError, AccountLockedError, AccountDisabledError."""
        try:
            pending, identity, provider_tokens = await self._gateway.prove(
                provider, code=code, state=state, error=error
            )
            if pending.link_user_id is not None:
                # Begun by a signed-in account to link: only linkSocialIdentity finishes it.
                raise SocialSignInFailedError(SocialFailure.BAD_STATE)
            linked = await repository.get(identity.key)
            configured = self._gateway.provider(identity.provider)
            # A linked identity is its subject; the email rules still gate the domain.
            check_email(configured, identity, need_verified=linked is None)
        except SocialSignInFailedError as failed:
            await self._failed(None, provider, failed, actor)
            raise
        sealed = self._tokens.seal(identity.key, provider_tokens)
        if linked is not None:
            return await self._returning(linked, identity, sealed, actor, device_token)
        existing = await users.find_by_email(identity.email or "")
        if existing is not None and existing.status is not UserStatus.DELETED:
            return await self._link_required(existing, identity, sealed, actor)
        if await self._is_reserved(identity.email or ""):
            # An erased account's address (domain/privacy/tombstones.py): no new account
            # takes it silently during the grace period.
            raise SocialSignInFailedError(SocialFailure.EMAIL_RESERVED)
        user = await create_social_user(self._clock, identity)
        if user is None:  # the address was taken a moment ago: the same rule as above
            existing = await users.find_by_email(identity.email or "")
            assert existing is not None
            return await self._link_required(existing, identity, sealed, actor)
        assert user.id is not None
        await self._audit.record(
            "user.registered",
            AuditAction.CREATE,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            after={"email": user.email},
            details={"method": "social", "provider": identity.provider},
        )
        await self._link(user.id, identity, sealed)
        return await self._sign_in(user, identity, actor, device_token)

    async def _returning(
        self,
        linked: SocialIdentity,
        identity: ExternalIdentity,
        sealed: SealedProviderTokens | None,
        actor: Actor,
        device_token: object,
    ) -> SocialOutcome:
        user = await users.get(linked.user_id)
        if user is None or user.status is UserStatus.DELETED:
            await self._failed(None, identity.provider, None, actor, reason="no_account")
            raise SocialSignInFailedError(SocialFailure.PROVIDER_ERROR, detail="no account")
        if user.locked_at is not None:
            await self._failed(user, identity.provider, None, actor, reason="locked")
            raise AccountLockedError
        if user.status is UserStatus.DEACTIVATED:
            await self._failed(user, identity.provider, None, actor, reason="deactivated")
            raise AccountDisabledError
        # Setting off: any tokens kept while it was on are dropped now.
        await repository.touch(linked.id, self._clock.now(), sealed)
        return await self._sign_in(user, identity, actor, device_token)

    async def _sign_in(
        self, user: User, identity: ExternalIdentity, actor: Actor, device_token: object
    ) -> LoginOutcome:
        assert user.id is not None
        provider = self._gateway.provider(identity.provider)
        trusted_mfa = provider.settings.trust_provider_mfa and identity.mfa_asserted
        await self._audit.record(
            "user.social_sign_in",
            AuditAction.LOGIN,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={"provider": identity.provider, "provider_mfa": trusted_mfa},
        )
        if trusted_mfa:
            amr = sign_in_methods((FEDERATED,), multi_factor=True)
            return await self._login.sign_in_proven(user, actor, amr=amr)
        # A two-factor account answers its own factor (the challenge remembers ``fed``),
        # unless this device is trusted for it.
        return await self._login.second_step(
            user, actor, first=(FEDERATED,), device_token=device_token
        )

    async def _link_required(
        self,
        user: User,
        identity: ExternalIdentity,
        sealed: SealedProviderTokens | None,
        actor: Actor,
    ) -> LinkRequired:
        token, expires_at = await self._links.request(user, identity, sealed)
        await self._audit.record(
            "user.social_link_required",
            AuditAction.SECURITY,
            actor=actor,
            target_id=str(user.id),
            details={"provider": identity.provider},
        )
        return LinkRequired(token, identity.provider, expires_at)

    async def _link(
        self,
        user_id: PydanticObjectId,
        identity: ExternalIdentity,
        sealed: SealedProviderTokens | None,
    ) -> None:
        await repository.insert(
            SocialIdentity(
                id=identity.key,
                user_id=user_id,
                provider=identity.provider,
                subject=identity.subject,
                email=identity.email,
                email_verified=identity.email_verified,
                picture=identity.picture,
                created_at=self._clock.now(),
                last_used_at=self._clock.now(),
                provider_tokens=sealed,
            )
        )

    async def _failed(
        self,
        user: User | None,
        provider: object,
        failed: SocialSignInFailedError | None,
        actor: Actor,
        reason: str = "",
    ) -> None:
        await self._audit.record(
            "user.login_failed",
            AuditAction.LOGIN,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id) if user is not None else None,
            details={
                "reason": failed.reason.value if failed is not None else reason,
                "method": "social",
                "provider": str(provider)[:40],
                "detail": failed.detail if failed is not None else "",
            },
        )
