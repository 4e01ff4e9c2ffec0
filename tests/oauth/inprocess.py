"""The provider in-process on a FrozenClock, for the tests that need to move time (TOTP
steps, ``max_age``, device-code polling and expiry): the app behind httpx's
ASGITransport, authlib's OAuth client on that transport, the built-in pages walked
like a browser, ID tokens checked against the published JWKS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pyotp
from authlib.integrations.httpx_client import AsyncOAuth2Client

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from tests.api.identity_ops import PASSWORD, call, login
from tests.oauth.conftest import hidden
from tests.oauth.support import create_client
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager

BASE = "http://127.0.0.1:9"  # the issuer and the transport's host (authlib wants https or loopback)
RP = "https://rp.example.com/callback"
BEGIN_TOTP = "mutation { beginTotpEnrollment { ... on TotpEnrollment { secret } } }"
CONFIRM_TOTP = """
mutation($code: String!) { confirmTotpEnrollment(code: $code) { __typename } }"""


@dataclass
class LocalProvider:
    app: LifespanManager
    clock: FrozenClock
    admin_token: str
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app.app, client=("198.51.100.9", 40000))

    def http(self) -> httpx.AsyncClient:
        """A browser (cookies kept) or any other caller of the provider."""
        return httpx.AsyncClient(transport=self.transport(), base_url=BASE)

    def rp(self, name: str, **extra: Any) -> AsyncOAuth2Client:
        which = self.clients[name]
        secret = which.get("clientSecret")
        method = extra.pop("auth", "client_secret_basic" if secret else "none")
        uris = which["client"]["redirectUris"]
        return AsyncOAuth2Client(
            client_id=which["client"]["id"],
            client_secret=secret,
            scope=extra.pop("scope", "openid email"),
            redirect_uri=uris[0] if uris else None,
            code_challenge_method="S256",
            token_endpoint_auth_method=method,
            transport=self.transport(),
            **extra,
        )

    async def add_client(self, name: str, client_type: str, **spec: Any) -> dict[str, Any]:
        async with self.http() as http:
            created = await create_client(http, self.admin_token, client_type, name=name, **spec)
        assert created["__typename"] == "OAuthClientCreated", created
        self.clients[name] = created
        return created

    async def person(self, email: str, *, totp: bool = False) -> str | None:
        """A verified account; with ``totp`` its authenticator secret (enrolled through
        GraphQL, the clock then moved past the confirmation code's step)."""
        await staff_account(self.app.state, email, PASSWORD, Role.STUDENT)
        if not totp:
            return None
        async with self.http() as http:
            token = (await login(http, email))["accessToken"]
            begun = await call(http, BEGIN_TOTP, token=token)
            secret = str(begun["data"]["beginTotpEnrollment"]["secret"])
            code = pyotp.TOTP(secret).at(self.clock.now())
            confirmed = await call(http, CONFIRM_TOTP, {"code": code}, token=token)
        assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
        self.clock.advance(timedelta(seconds=30))
        return secret

    async def id_token_claims(self, id_token: str, client_id: str) -> dict[str, Any]:
        """Signature through discovery + JWKS, ``iss`` and ``aud``; the lifetime against
        the frozen clock (PyJWT would compare it with the wall clock)."""
        async with self.http() as http:
            config = (await http.get("/.well-known/openid-configuration")).json()
            keys = jwt.PyJWKSet.from_dict((await http.get(config["jwks_uri"])).json())
        kid = jwt.get_unverified_header(id_token)["kid"]
        claims: dict[str, Any] = jwt.decode(
            id_token,
            keys[kid].key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=config["issuer"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        now = int(self.clock.now().timestamp())
        assert claims["iat"] <= now < claims["exp"]
        return claims


@asynccontextmanager
async def local_provider(
    app_with: AppWith, clock: FrozenClock, **overrides: Any
) -> AsyncIterator[LocalProvider]:
    async with app_with(clock=clock, public_url=BASE, **overrides) as app:
        await staff_account(app.state, "op.admin@example.com", PASSWORD, Role.ADMIN)
        transport = httpx.ASGITransport(app=app.app, client=("198.51.100.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            token = (await login(http, "op.admin@example.com"))["accessToken"]
        yield LocalProvider(app, clock, token)


async def walk_pages(
    browser: httpx.AsyncClient,
    authorize_url: str,
    email: str,
    *,
    totp: str | None = None,
    clock: FrozenClock | None = None,
) -> str:
    """Signs in on the built-in pages (password, then the TOTP code when given) and
    allows the consent screen if one comes; returns the redirect back to the client."""
    response = await browser.get(authorize_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    if "/oauth2/login" in location:
        page = await browser.get(location)
        form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
        posted = await browser.post(
            "/oauth2/login", data={**form, "email": email, "password": PASSWORD}
        )
        if totp is not None:
            assert clock is not None
            assert posted.status_code == 200, posted.text
            code = pyotp.TOTP(totp).at(clock.now())
            posted = await browser.post(
                "/oauth2/login/mfa",
                data={**form, "mfa": hidden(posted.text, "mfa"), "code": code},
            )
        assert posted.status_code == 303, posted.text
        response = await browser.get(posted.headers["location"])
        location = response.headers["location"]
    if "/oauth2/consent" in location:
        page = await browser.get(location)
        posted = await browser.post(
            "/oauth2/consent",
            data={
                "challenge": hidden(page.text, "challenge"),
                "csrf": hidden(page.text, "csrf"),
                "decision": "allow",
            },
        )
        response = await browser.get(posted.headers["location"])
        location = response.headers["location"]
    return location
