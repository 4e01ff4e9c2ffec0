"""The OpenID provider's use cases: the authorization request (sign-in and consent
decisions), the token, revocation and introspection endpoints on authlib, userinfo.

Each authlib call runs on a worker thread (its hooks hop back to the loop, see
domain/oauth/server.py).
"""

from __future__ import annotations

import secrets
from typing import Any

from anyio import to_thread
from authlib.oauth2.rfc6749 import AccessDeniedError, OAuth2Error, OAuth2Request  # type: ignore[import-untyped]
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError  # type: ignore[import-untyped]
from beanie import PydanticObjectId

from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.secrets import token_hash
from domain.identity.cache import CachedUsers
from domain.identity.documents import User
from domain.oauth.answered import answers
from domain.oauth.clients import OAuthClients
from domain.oauth.documents import OAuthClient, OAuthConsent
from domain.oauth.endpoints import Introspection, Revocation
from domain.oauth.grants import GrantLedger
from domain.oauth.outcomes import (
    AuthorizeOutcome,
    ErrorPage,
    NeedConsent,
    NeedSignIn,
    Redirect,
    fields_of,
    must_sign_in_again,
    outcome_of,
    with_profile,
)
from domain.oauth.presented import PresentedTokens
from domain.oauth.refresh import Presented, RefreshRotations
from domain.oauth.server import (
    ClientModel,
    GatehouseServer,
    Hooks,
    HttpRequest,
    HttpResponse,
)
from domain.oauth.store import Challenge, CodeRecord, OAuthStore, Subject
from domain.oauth.tokens import OAuthTokens, user_claims
from domain.sessions.documents import Session
from domain.sessions.issued import utc
from domain.sessions.revocation import SessionRevocations


class OAuthProvider(Hooks):
    def __init__(
        self,
        clock: Clock,
        clients: OAuthClients,
        store: OAuthStore,
        tokens: OAuthTokens,
        users: CachedUsers,
        revocations: SessionRevocations,
        ledger: GrantLedger,
        refreshes: RefreshRotations,
    ) -> None:
        self._clock = clock
        self.refreshes = refreshes
        self.ledger = ledger
        self.clients = clients
        self.store = store
        self.tokens = tokens
        self._users = users
        self._revocations = revocations
        self.server = GatehouseServer(self, scopes=[])
        self.presented = PresentedTokens(
            clock, clients, store, tokens, revocations, self.live_subject
        )
        self.server.register_endpoint(Revocation(self.presented.lookup, self.presented.revoke))
        self.server.register_endpoint(Introspection(self.presented.lookup))

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    # --- endpoints ---
    async def token(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await to_thread.run_sync(
            self.server.create_token_response, request
        )
        return response

    async def revoke(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await to_thread.run_sync(
            self.server.create_endpoint_response, "revocation", request
        )
        return response

    async def introspect(self, request: HttpRequest) -> HttpResponse:
        """Inline on the loop, its questions answered first (domain/oauth/presented.py)."""
        with answers(await self.presented.introspection_answers(request)):
            response: HttpResponse = self.server.create_endpoint_response("introspection", request)
        return response

    async def userinfo(self, bearer: str) -> tuple[dict[str, Any], str] | None:
        """The claims the token's scope releases and the client it was issued to, or None
        for a token that is not an active access token of a person with ``openid``."""
        view = await self.presented.lookup(bearer, "access_token")
        if (
            view is None
            or not view.active
            or "openid" not in view.scope.split()
            or view.sub == view.client_id
        ):
            return None
        user = await self._users.get_active(view.sub)
        if user is None:
            return None
        claims = user_claims(with_profile(Subject(view.sub, "", 0, []), user), view.scope)
        return {"sub": view.sub, **claims}, view.client_id

    # --- the authorization request ---
    async def authorize(self, request: HttpRequest, browser_token: str | None) -> AuthorizeOutcome:
        challenge: Challenge | None = None
        params = request.params
        if [name for name, _ in params] == ["challenge"]:
            challenge = await self.store.challenge(params[0][1])
            if challenge is None:
                return ErrorPage(
                    "This sign-in request has expired. Go back to the app and start again."
                )
            params = challenge.params
        subject = await self.browser_subject(browser_token)
        oauth_request = HttpRequest("GET", request.url, request.headers, params)
        found = await to_thread.run_sync(self._consent_grant, oauth_request, subject)
        if isinstance(found, HttpResponse):
            return outcome_of(found, self.tokens.issuer)
        grant = found
        data = grant.request.payload.data
        prompts = set(str(data.get("prompt", "")).split())
        signed_in_here = (
            challenge is not None
            and browser_token is not None
            and challenge.signed_in_session == token_hash(browser_token)
        )
        if subject is None or (
            not signed_in_here and must_sign_in_again(subject, prompts, data, self._now())
        ):
            if "none" in prompts:
                return self._error(grant, LoginRequiredError())
            challenge = challenge or Challenge.new(params, grant.client.client.id, self._now())
            await self.store.save_challenge(challenge)
            return NeedSignIn(challenge)
        client: OAuthClient = grant.client.client
        scopes = str(grant.request.scope or "").split()
        if not client.first_party and not (
            challenge is not None and challenge.consented_by == subject.user_id
        ):
            consent = await OAuthConsent.find_one(
                {"_id": OAuthConsent.key(subject.user_id, client.id)}
            )
            if "consent" in prompts or consent is None or not set(scopes) <= set(consent.scopes):
                if "none" in prompts:
                    return self._error(grant, ConsentRequiredError())
                challenge = challenge or Challenge.new(params, client.id, self._now())
                challenge.consent_for = subject.user_id
                await self.store.save_challenge(challenge)
                return NeedConsent(challenge, client, scopes)
        response: HttpResponse = await to_thread.run_sync(
            self.server.create_authorization_response, grant.request, subject, grant
        )
        if challenge is not None:
            await self.store.drop_challenge(challenge.id)
        return outcome_of(response, self.tokens.issuer)

    def _consent_grant(self, request: HttpRequest, subject: Subject | None) -> Any:
        try:
            return self.server.get_consent_grant(request=request, end_user=subject)
        except OAuth2Error as error:
            return self.server.handle_error_response(request, error)

    def _error(self, grant: Any, error: OAuth2Error) -> AuthorizeOutcome:
        error.redirect_uri = grant.redirect_uri
        error.state = grant.request.payload.state
        return outcome_of(
            self.server.handle_error_response(grant.request, error), self.tokens.issuer
        )

    async def signed_in(
        self, challenge: Challenge, user: User, session_id: str, *, mfa: bool
    ) -> str:
        """The sign-in page proved who this is: see ``signed_in_as``."""
        subject = Subject(str(user.id), session_id, self._now(), ["pwd", "otp"] if mfa else ["pwd"])
        return await self.signed_in_as(challenge, subject)

    async def signed_in_as(self, challenge: Challenge, subject: Subject) -> str:
        """A browser session for the provider (the built-in pages, or a headless login
        UI's session with its own ``amr`` and ``auth_time``), and the request marked as
        signed in by it. Returns the browser session's token."""
        browser = await self.store.open_browser_session(subject)
        challenge.signed_in_session = token_hash(browser)
        await self.store.save_challenge(challenge)
        return browser

    async def deny(self, challenge: Challenge, url: str, subject: Subject | None) -> str | None:
        """The person refused: back to the client with ``access_denied``."""
        await self.store.drop_challenge(challenge.id)
        request = HttpRequest("GET", url, {}, challenge.params)
        found = await to_thread.run_sync(self._consent_grant, request, subject)
        outcome = (
            outcome_of(found, self.tokens.issuer)
            if isinstance(found, HttpResponse)
            else self._error(found, AccessDeniedError())
        )
        return outcome.location if isinstance(outcome, Redirect) else None

    async def consent(self, challenge: Challenge, subject: Subject, scopes: list[str]) -> None:
        now = self._clock.now()
        await OAuthConsent(
            _id=OAuthConsent.key(subject.user_id, challenge.client_id),
            user_id=subject.user_id,
            client_id=challenge.client_id,
            scopes=sorted(set(scopes)),
            granted_at=now,
        ).save()
        challenge.consented_by = subject.user_id
        await self.store.save_challenge(challenge)

    async def browser_subject(self, browser_token: str | None) -> Subject | None:
        if not browser_token:
            return None
        subject = await self.store.browser_session(browser_token)
        return await self.live_subject(subject) if subject is not None else None

    # --- authlib's hooks (called from the worker thread through anyio) ---
    async def query_client(self, client_id: str) -> OAuthClient | None:
        return await self.clients.active(client_id)

    async def save_code(self, code: str, request: OAuth2Request) -> None:
        subject: Subject = request.user
        data = request.payload.data
        record = CodeRecord(
            client_id=request.client.get_client_id(),
            redirect_uri=data.get("redirect_uri") or request.client.get_default_redirect_uri(),
            scope=str(request.scope or ""),
            subject=Subject(**{**fields_of(subject), "grant_id": secrets.token_urlsafe(16)}),
            grant_id="",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )
        record.grant_id = record.subject.grant_id
        await self.store.save_code(code, record)
        await self.ledger.issued(record.subject, record.client_id, record.scope)

    async def take_code(self, code: str) -> CodeRecord | None:
        # A code whose session ended (logout) is refused as invalid_grant here, before
        # authlib's ``authenticate_user`` would answer invalid_request.
        record = await self.store.take_code(code)
        if record is None or await self.live_subject(record.subject) is None:
            return None
        return record

    async def take_refresh(self, token: str, client_id: str, actor: Actor) -> Presented | None:
        presented = await self.refreshes.take(token, client_id, actor, self.live_subject)
        if presented is None or await self.live_subject(presented.subject) is None:
            return None  # unknown, expired, reused; or the grant revoked, the session over
        return presented

    async def live_subject(self, subject: Subject) -> Subject | None:
        """The subject again, if its Gatehouse session and account are still live."""
        if subject.grant_id and await self.store.is_revoked(grant_id=subject.grant_id, jti=None):
            return None
        if await self._revocations.is_revoked(subject.sid):
            return None
        session = await Session.find_one({"_id": PydanticObjectId(subject.sid)})
        if (
            session is None
            or session.revoked_at is not None
            or utc(session.expires_at) <= self._clock.now()
        ):
            return None
        user = await self._users.get_active(subject.user_id)
        return with_profile(subject, user) if user is not None else None

    async def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        await self.ledger.tokens_issued(request, token)
        if refresh and request.user is not None:
            scope = str(token.get("scope", ""))
            client: OAuthClient = request.client.client
            await self.refreshes.save(refresh, scope, client, request.user, request.refresh_token)

    def generate_token(
        self, client: ClientModel, user: Subject | None, scope: str, refresh: bool
    ) -> dict[str, Any]:
        access = self.tokens.access_token(client.client, user, scope)
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access.token,
            "expires_in": client.client.access_token_ttl_seconds,
            "scope": scope,
        }
        if refresh and user is not None:
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        code: CodeRecord | None = request.authorization_code
        return self.tokens.id_token(
            request.client.client,
            request.user,
            str(token.get("scope", "")),
            nonce=code.nonce if code else None,
            access_token=token.get("access_token"),
        )
