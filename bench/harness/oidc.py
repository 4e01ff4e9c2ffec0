"""Gatehouse as an OpenID provider, set up for issue 20's load: clients and codes.

Two clients are registered through the admin GraphQL API (``createOAuthClient``): a web
app (confidential, authorization code with PKCE, not first-party, so it asks for consent
once) and a service (confidential, client credentials; as a resource server it also
introspects the app's tokens). Authorization codes are minted as a browser gets them:
the authorization request, the built-in sign-in page (a password sign-in), the consent
page once, then the authorization endpoint again for each further code with the
provider's session cookie. A code is single use and lives CODE_TTL_SECONDS, so the pool
is minted just before its load and spent oldest first.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from domain.oauth.store import CODE_TTL_SECONDS
from harness.gatehouse import APP_ORIGIN
from harness.users import PASSWORD

TOKEN_PATH = "/oauth2/token"
INTROSPECT_PATH = "/oauth2/introspect"
REDIRECT_URI = f"{APP_ORIGIN}/oauth/callback"
# What a web app asks for to sign someone in: an ID token and an access token, no refresh.
CODE_SCOPE = "openid email profile"
SERVICE_SCOPE = "reports:read"
SERVICE_AUDIENCE = "https://api.bench.invalid"
COOKIE = "gh_op_session"
MINT_AT_ONCE = 8
CREATE_CLIENT = """mutation($type: OAuthClientType!, $client: OAuthClientInput!) {
  createOAuthClient(clientType: $type, client: $client) { __typename
    ... on OAuthClientCreated { clientSecret client { id } } } }"""
_HIDDEN = 'name="{}" value="([^"]+)"'


@dataclass(frozen=True)
class Client:
    id: str
    secret: str

    @property
    def form(self) -> str:
        """client_secret_post: the credentials in the form body, as Keycloak's scenarios."""
        return f"client_id={quote(self.id)}&client_secret={quote(self.secret)}"


def _create(http: httpx.Client, admin_token: str, **spec: Any) -> Client:
    response = http.post(
        "/graphql",
        json={"query": CREATE_CLIENT, "variables": {"type": "CONFIDENTIAL", "client": spec}},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    answer = response.json().get("data", {}) or {}
    created = answer.get("createOAuthClient") or {}
    if created.get("__typename") != "OAuthClientCreated":
        raise RuntimeError(f"createOAuthClient {spec.get('name')}: {response.text[:300]}")
    return Client(created["client"]["id"], created["clientSecret"])


def register_clients(url: str, admin_token: str) -> tuple[Client, Client]:
    """(web app, service), through the admin API (the token must be a recent sign-in)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        web = _create(
            http, admin_token, name="Bench web app", redirectUris=[REDIRECT_URI],
            grantTypes=["AUTHORIZATION_CODE"], scopes=CODE_SCOPE.split(),
        )  # fmt: skip
        service = _create(
            http, admin_token, name="Bench API", grantTypes=["CLIENT_CREDENTIALS"],
            scopes=[SERVICE_SCOPE], audience=SERVICE_AUDIENCE,
        )  # fmt: skip
    return web, service


# --------------------------------------------------------------- codes, as a browser


@dataclass
class Browser:
    email: str
    cookie: str = ""  # the provider's session (Secure: httpx would not send it over http)

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}


def _hidden(page: str, name: str) -> str:
    found = re.search(_HIDDEN.format(name), page)
    if found is None:
        raise RuntimeError(f"no {name} field on the page: {page[:200]}")
    return found.group(1)


def _location(response: httpx.Response, status: int) -> str:
    if response.status_code != status:
        raise RuntimeError(f"expected {status}, got {response.status_code}: {response.text[:200]}")
    return response.headers["location"]


class Minter:
    """Authorization requests of one web app, answered through the provider's pages."""

    def __init__(self, http: httpx.AsyncClient, client: Client) -> None:
        self._http = http
        self._client = client

    async def _authorize(self, browser: Browser) -> tuple[httpx.Response, str, str]:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        state = secrets.token_urlsafe(12)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client.id,
                "redirect_uri": REDIRECT_URI,
                "scope": CODE_SCOPE,
                "state": state,
                "nonce": secrets.token_urlsafe(12),
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        response = await self._http.get(f"/oauth2/authorize?{query}", headers=browser.headers)
        return response, verifier, state

    async def _page_then_post(self, browser: Browser, path: str, fields: dict[str, str]) -> str:
        page = await self._http.get(path, headers=browser.headers)
        form = {
            "challenge": _hidden(page.text, "challenge"),
            "csrf": _hidden(page.text, "csrf"),
            **fields,
        }
        posted = await self._http.post(path.split("?")[0], data=form, headers=browser.headers)
        location = _location(posted, 303)
        if COOKIE in posted.cookies:
            browser.cookie = str(posted.cookies[COOKIE])
        return location

    async def code_form(self, browser: Browser) -> str:
        """A token request's body for a fresh code (signing in and consenting first when
        this browser has not yet)."""
        response, verifier, state = await self._authorize(browser)
        location = _location(response, 302)
        if location.startswith("/oauth2/login"):
            credentials = {"email": browser.email, "password": PASSWORD}
            location = await self._page_then_post(browser, location, credentials)
            location = _location(await self._http.get(location, headers=browser.headers), 302)
        if location.startswith("/oauth2/consent"):
            location = await self._page_then_post(browser, location, {"decision": "allow"})
            location = _location(await self._http.get(location, headers=browser.headers), 302)
        answer = parse_qs(urlsplit(location).query)
        if not location.startswith(REDIRECT_URI) or answer.get("state") != [state]:
            raise RuntimeError(f"authorization answered {location[:200]}")
        (code,) = answer["code"]
        return (
            f"grant_type=authorization_code&code={quote(code)}"
            f"&redirect_uri={quote(REDIRECT_URI, safe='')}&code_verifier={verifier}"
            f"&{self._client.form}"
        )


async def _mint(
    url: str, client: Client, emails: list[str], count: int, budget: float
) -> list[str]:
    forms: list[str] = []
    deadline = time.monotonic() + budget
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        minter = Minter(http, client)
        browsers = [Browser(e) for e in emails]
        # Every browser signs in and consents once, then the codes come one request each.
        forms += await asyncio.gather(*(minter.code_form(b) for b in browsers))

        async def worker(i: int) -> None:
            while len(forms) < count and time.monotonic() < deadline:
                forms.append(await minter.code_form(browsers[i % len(browsers)]))

        await asyncio.gather(*(worker(i) for i in range(MINT_AT_ONCE)))
    return forms


def mint_codes(url: str, client: Client, emails: list[str], count: int, budget: float) -> list[str]:
    """Up to ``count`` token request bodies, each with its own code, in the order minted;
    minting stops after ``budget`` seconds (the codes must outlive the load)."""
    return asyncio.run(_mint(url, client, emails, count, budget))


def access_tokens(url: str, forms: list[str]) -> list[str]:
    """The codes exchanged: the web app's access tokens (for introspection)."""
    tokens = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for form in forms:
            response = http.post(
                TOKEN_PATH,
                content=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            if response.status_code != 200:
                raise RuntimeError(f"code exchange: {response.status_code} {response.text[:200]}")
            tokens.append(str(response.json()["access_token"]))
    return tokens


def mint_budget(duration: float) -> float:
    """Seconds minting may take so that the first code minted is spent before it expires:
    the load itself and ~15 s of slack (settling, wrk's start) after minting."""
    return max(5.0, CODE_TTL_SECONDS - duration - 15.0)
