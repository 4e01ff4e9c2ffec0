"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

The relying party sends the browser to the end-session endpoint with the ID token it
holds (``id_token_hint``). Gatehouse ends the session that ID token names (its ``sid``):
every access and refresh token issued under it stops at once (introspection answers
``active: false``), and so does the sign-in page's browser session when it is that one.
The browser then goes back to ``post_logout_redirect_uri`` only when it is one of the
client's registered post-logout URIs, compared whole, with ``state`` added.

Without a hint nothing proves the request comes from the relying party, so a logout
could be forced cross-site: the person confirms on a page first (a form with a CSRF
token, kept in Redis for the request like an authorization challenge).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from beanie import PydanticObjectId
from bson.errors import InvalidId

from domain.core.actor import Actor
from domain.oauth.clients import OAuthClients
from domain.oauth.outcomes import ErrorPage
from domain.oauth.store import OAuthStore
from domain.oauth.tokens import OAuthTokens
from domain.sessions.documents import Session
from domain.sessions.service import SessionService

MAX_PARAM_LENGTH = 2000


@dataclass(slots=True)
class LogoutRequest:
    """A checked logout request: which session the hint names (if any), and where the
    browser may go afterwards."""

    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    client_id: str | None = None
    client_name: str | None = None
    # From a valid id_token_hint: the Gatehouse session and person it was issued for.
    sid: str | None = None
    user_id: str | None = None
    # The registered post-logout URI with ``state`` added, or None.
    redirect: str | None = None
    # The client's post-logout URIs (the confirmation page's form-action).
    allowed_uris: list[str] = field(default_factory=list)


def _with_state(uri: str, state: str | None) -> str:
    if not state:
        return uri
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode({"state": state})) if q)
    return urlunsplit(parts._replace(query=query))


class EndSession:
    def __init__(
        self,
        clients: OAuthClients,
        store: OAuthStore,
        tokens: OAuthTokens,
        sessions: SessionService,
    ) -> None:
        self._clients = clients
        self._store = store
        self._tokens = tokens
        self._sessions = sessions

    async def check(self, params: list[tuple[str, str]]) -> LogoutRequest | ErrorPage:
        """The request, or why it cannot be honoured (shown, never redirected)."""
        names = [name for name, _ in params]
        if len(names) != len(set(names)) or any(len(v) > MAX_PARAM_LENGTH for _, v in params):
            return ErrorPage("The sign-out request is malformed.")
        given = dict(params)
        request = LogoutRequest()
        hint = given.get("id_token_hint")
        client_id = given.get("client_id")
        if hint:
            claims = self._tokens.verify_id_token_hint(hint)
            if claims is None:
                return ErrorPage("The sign-out request names an ID token Gatehouse did not issue.")
            if client_id and client_id != claims["aud"]:
                return ErrorPage("The sign-out request names two different apps.")
            client_id = str(claims["aud"])
            request.sid, request.user_id = str(claims["sid"]), str(claims["sub"])
        uri = given.get("post_logout_redirect_uri")
        if client_id:
            client = await self._clients.active(client_id)
            if client is None:
                return ErrorPage("The app asking to sign you out is not registered.")
            request.client_id, request.client_name = client.id, client.name
            request.allowed_uris = list(client.post_logout_redirect_uris)
        if uri:
            # RP-Initiated Logout §3: only a URI registered by the client, matched
            # exactly; without a client to check it against, not at all.
            if uri not in request.allowed_uris:
                return ErrorPage("The address to return to after sign-out is not registered.")
            request.redirect = _with_state(uri, given.get("state"))
        return request

    async def end_hinted(
        self, request: LogoutRequest, browser_token: str | None, actor: Actor
    ) -> bool:
        """Ends the session the hint names. Returns whether the browser session was that
        one (and is ended too, so the cookie should go)."""
        assert request.sid is not None
        assert request.user_id is not None
        await self._end_session(request.sid, request.user_id, actor)
        if browser_token:
            subject = await self._store.browser_session(browser_token)
            if subject is not None and subject.sid == request.sid:
                await self._store.end_browser_session(browser_token)
                return True
        return False

    async def end_browser(self, browser_token: str | None, actor: Actor) -> None:
        """The person confirmed: the sign-in page's session ends, with its Gatehouse
        session and so every token issued under it."""
        if not browser_token:
            return
        subject = await self._store.browser_session(browser_token)
        await self._store.end_browser_session(browser_token)
        if subject is not None:
            await self._end_session(subject.sid, subject.user_id, actor)

    async def _end_session(self, sid: str, user_id: str, actor: Actor) -> None:
        try:
            oid = PydanticObjectId(sid)
        except (InvalidId, TypeError):
            return
        # By _id alone (the FerretDB index); the owner checked here.
        session = await Session.find_one({"_id": oid})
        if session is None or str(session.user_id) != user_id or session.revoked_at is not None:
            return
        await self._sessions.revoke(session, reason="logout", actor=actor.as_user(user_id))

    # --- requests waiting for the confirmation page ---
    async def save(self, request: LogoutRequest) -> None:
        await self._store.save_logout(request.id, request)

    async def pending(self, request_id: str) -> LogoutRequest | None:
        data = await self._store.logout(request_id)
        return LogoutRequest(**data) if data is not None else None

    async def drop(self, request_id: str) -> None:
        await self._store.drop_logout(request_id)
