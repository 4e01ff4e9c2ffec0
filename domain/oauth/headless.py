"""Headless login and consent, in the style of Ory Hydra: the deployment's own login UI
(``GATEHOUSE_OIDC_LOGIN_UI_URL``) signs the person in through the GraphQL API and then
accepts or rejects the pending authorization request (the challenge) for the caller's
session. It is the built-in pages' flow with another front: the same ``Challenge`` in
Redis, ``OAuthProvider.signed_in`` / ``consent`` / ``deny``, and the authorization
endpoint continuing the request afterwards.

Each step of a challenge is claimed once in Redis (SET NX), so two accepts racing for
one challenge cannot both win. The accepted login hands the browser a one-time
``login_verifier`` in the URL back to ``/oauth2/authorize``, where it becomes the
provider's browser-session cookie (the login UI is on another origin and cannot set it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

from beanie import PydanticObjectId

from domain.core.clock import Clock
from domain.core.errors import ForbiddenError
from domain.identity.action_tokens import InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.reauthentication import Reauthentication
from domain.oauth.provider import OAuthProvider
from domain.oauth.store import Challenge, Subject
from domain.sessions.documents import Session
from domain.sessions.issued import utc
from domain.sessions.principal import Principal

AUTHORIZE_PATH = "/oauth2/authorize"
LOGIN_VERIFIER = "login_verifier"


class InvalidChallengeError(InvalidActionTokenError):
    """Unknown, expired or already answered: the same answer for each."""

    default_message = "This sign-in request has expired or was already answered."


class ChallengeStage(StrEnum):
    LOGIN = "login"
    CONSENT = "consent"


@dataclass(frozen=True, slots=True)
class ChallengeDetails:
    """What a login or consent UI shows: who asks, for what."""

    challenge_id: str
    stage: ChallengeStage
    client_id: str
    client_name: str
    scopes: list[str]
    prompts: list[str]
    login_hint: str | None  # an email address only (``Challenge.login_hint``)


def requested_scopes(challenge: Challenge) -> list[str]:
    return sorted({s for k, v in challenge.params if k == "scope" for s in v.split()})


def _param(challenge: Challenge, name: str) -> str:
    return next((v for k, v in challenge.params if k == name), "")


class HeadlessChallenges:
    def __init__(
        self,
        clock: Clock,
        provider: OAuthProvider,
        users: CachedUsers,
        reauthentication: Reauthentication,
        issuer: str,
    ) -> None:
        self._clock = clock
        self._provider = provider
        self._users = users
        self._reauthentication = reauthentication
        self._authorize = issuer.rstrip("/") + AUTHORIZE_PATH

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    async def _challenge(self, challenge_id: str) -> Challenge:
        challenge = await self._provider.store.challenge(challenge_id)
        if challenge is None or challenge.resume is not None:  # the device flow's own
            raise InvalidChallengeError
        return challenge

    async def details(self, challenge_id: str) -> ChallengeDetails:
        challenge = await self._challenge(challenge_id)
        client = await self._provider.clients.active(challenge.client_id)
        if client is None:
            raise InvalidChallengeError
        stage = ChallengeStage.CONSENT if challenge.consent_for else ChallengeStage.LOGIN
        return ChallengeDetails(
            challenge.id,
            stage,
            client.id,
            client.name,
            requested_scopes(challenge),
            _param(challenge, "prompt").split(),
            challenge.login_hint(),
        )

    async def accept_login(self, challenge_id: str, principal: Principal) -> str:
        """The caller's session signs the request in. Returns where to send the browser.

        Raises: InvalidChallengeError, ReauthenticationRequiredError (``prompt=login``
        wants a sign-in after the request began; ``max_age`` one within it)."""
        challenge = await self._challenge(challenge_id)
        if challenge.signed_in_session is not None or challenge.consent_for is not None:
            raise InvalidChallengeError
        await self._require_fresh(challenge, principal)
        session = await Session.find_one({"_id": PydanticObjectId(principal.session_id)})
        user = await self._users.get_active(principal.user_id)
        if session is None or user is None:
            raise InvalidChallengeError
        if not await self._provider.store.claim_challenge_step(challenge.id, "login"):
            raise InvalidChallengeError
        auth_time = int(utc(session.auth_time).timestamp())
        subject = Subject(str(user.id), principal.session_id, auth_time, list(session.methods))
        browser = await self._provider.signed_in_as(challenge, subject)
        verifier = secrets.token_urlsafe(32)
        await self._provider.store.save_login_verifier(verifier, challenge.id, browser)
        return (
            f"{self._authorize}?{urlencode({'challenge': challenge.id, LOGIN_VERIFIER: verifier})}"
        )

    async def _require_fresh(self, challenge: Challenge, principal: Principal) -> None:
        prompts = _param(challenge, "prompt").split()
        max_age = _param(challenge, "max_age")
        limits = [int(max_age)] if max_age.isdigit() else []
        if "login" in prompts:
            limits.append(max(1, self._now() - challenge.created_at))
        if limits:
            await self._reauthentication.require_recent(principal, max(1, min(limits)))

    async def accept_consent(self, challenge_id: str, principal: Principal) -> str:
        """The person allows the requested scopes. Raises: InvalidChallengeError,
        ForbiddenError (the consent is another user's)."""
        challenge = await self._consent_step(challenge_id, principal)
        subject = Subject(principal.user_id, principal.session_id, 0, [])
        await self._provider.consent(challenge, subject, requested_scopes(challenge))
        return f"{self._authorize}?{urlencode({'challenge': challenge.id})}"

    async def _consent_step(self, challenge_id: str, principal: Principal | None) -> Challenge:
        challenge = await self._challenge(challenge_id)
        if challenge.consent_for is None:
            raise InvalidChallengeError
        if principal is None or principal.user_id != challenge.consent_for:
            raise ForbiddenError("This request is another account's to answer.")
        if not await self._provider.store.claim_challenge_step(challenge.id, "decision"):
            raise InvalidChallengeError
        return challenge

    async def reject(self, challenge_id: str, principal: Principal | None) -> str:
        """Back to the client with ``access_denied``. A request waiting for sign-in may be
        cancelled by whoever holds its challenge (the login UI before anyone signed in);
        one waiting for consent only by the session of the person it asks.

        Raises: InvalidChallengeError, ForbiddenError."""
        challenge = await self._challenge(challenge_id)
        if challenge.consent_for is not None:
            challenge = await self._consent_step(challenge_id, principal)
        elif not await self._provider.store.claim_challenge_step(challenge.id, "decision"):
            raise InvalidChallengeError
        subject = Subject(principal.user_id, principal.session_id, 0, []) if principal else None
        location = await self._provider.deny(challenge, self._authorize, subject)
        if location is None:
            raise InvalidChallengeError
        return location
