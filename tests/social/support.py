"""A real OpenID Connect provider for the social tests: pytest-iam runs Canaille on
localhost with real discovery, JWKS, authorization (login and consent) and token
endpoints. ``authorize`` plays the browser at the provider: the person is signed in
there and has consented, so the authorization endpoint answers with the redirect to
the app's callback page, whose query the tests hand to ``completeSocialSignIn``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.api.identity_ops import call
from tests.passkeys.support import result

REDIRECT_URI = "https://app.example.com/auth/callback"
CLIENT_SECRET = "s3cret-of-the-gatehouse-client"
ERRORS = "... on UserError { code message }"
AUTH = """... on AuthPayload { accessToken refreshToken deviceToken
    user { id email firstName emailVerified } }"""

BEGIN = f"""mutation($provider: String!, $redirectUri: String!) {{
  beginSocialSignIn(provider: $provider, redirectUri: $redirectUri) {{ __typename
    ... on SocialAuthorization {{ authorizationUrl expiresAt }}
    ... on SocialSignInFailed {{ reason }} {ERRORS} }} }}"""
COMPLETE = f"""mutation($provider: String!, $code: String, $state: String!, $error: String,
    $deviceToken: String) {{
  completeSocialSignIn(provider: $provider, code: $code, state: $state, error: $error,
      deviceToken: $deviceToken) {{
    __typename {AUTH}
    ... on MfaRequired {{ challengeToken }}
    ... on AccountLinkRequired {{ linkToken provider expiresAt }}
    ... on SocialSignInFailed {{ reason }} {ERRORS} }} }}"""
BEGIN_LINK = f"""mutation($provider: String!, $redirectUri: String!) {{
  beginSocialLink(provider: $provider, redirectUri: $redirectUri) {{ __typename
    ... on SocialAuthorization {{ authorizationUrl }}
    ... on SocialSignInFailed {{ reason }} {ERRORS} }} }}"""
LINK = f"""mutation($provider: String!, $code: String, $state: String!) {{
  linkSocialIdentity(provider: $provider, code: $code, state: $state) {{ __typename
    ... on SocialIdentityLinked {{ identity {{ id provider email }} }}
    ... on SocialSignInFailed {{ reason }} {ERRORS} }} }}"""
CONFIRM_LINK = f"""mutation($token: String!) {{ confirmSocialLink(linkToken: $token) {{
  __typename ... on SocialIdentityLinked {{ identity {{ id provider }} }} {ERRORS} }} }}"""
REQUEST_LINK_EMAIL = f"""mutation($token: String!) {{ requestSocialLinkEmail(linkToken: $token) {{
  __typename {ERRORS} }} }}"""
CONFIRM_LINK_EMAIL = f"""mutation($token: String!) {{ confirmSocialLinkEmail(token: $token) {{
  __typename ... on SocialIdentityLinked {{ identity {{ id provider }} }} {ERRORS} }} }}"""
UNLINK = f"""mutation($id: ID!) {{ unlinkSocialIdentity(id: $id) {{
  __typename ... on SocialIdentityUnlinked {{ id }} {ERRORS}
  ... on ReauthenticationRequired {{ maxAgeSeconds }} }} }}"""
MY_IDENTITIES = "query { me { id identities { id provider email emailVerified } } }"
USER_IDENTITIES = f"""query($userId: ID!) {{ userIdentities(userId: $userId) {{ __typename
  ... on UserIdentities {{ identities {{ id provider }} }} {ERRORS} }} }}"""
REMOVE_USER_IDENTITY = f"""mutation($userId: ID!, $id: ID!) {{
  removeUserIdentity(userId: $userId, id: $id) {{ __typename
    ... on SocialIdentityUnlinked {{ id }} {ERRORS} }} }}"""


def register_client(iam_server: Any, client_id: str, redirect_uri: str = REDIRECT_URI) -> Any:
    """A confidential client at the provider, with Gatehouse's callback page."""
    client = iam_server.models.Client(
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        client_name=f"Gatehouse {client_id}",
        client_id_issued_at=datetime.now(UTC),
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope=["openid", "email", "profile"],
        token_endpoint_auth_method="client_secret_basic",
    )
    iam_server.backend.save(client)
    client.audience = [client]
    iam_server.backend.save(client)
    return client


def provider_user(iam_server: Any, email: str, *, verified: bool = True, **extra: Any) -> Any:
    """A person at the provider; ``verified`` decides the ``email_verified`` claim."""
    return iam_server.random_user(
        user_name=f"u{uuid.uuid4().hex[:12]}",
        emails=[email],
        given_name=extra.pop("given_name", "Grace"),
        family_name=extra.pop("family_name", "Hopper"),
        department=None if verified else "unverified",
        **extra,
    )


def authorize(iam_server: Any, url: str, user: Any) -> dict[str, str]:
    """The provider's answer to the authorization request, as the callback page reads it
    (``code`` and ``state``, or ``error``), for a person signed in there who consented."""
    # Canaille's in-memory backend can answer a code's lookup with an older code left
    # unredeemed by an earlier test (then "Code challenge failed"): one code at a time.
    for stale in iam_server.backend.query(iam_server.models.AuthorizationCode):
        iam_server.backend.delete(stale)
    iam_server.login(user)
    iam_server.consent(user)
    try:
        response = httpx.get(url, follow_redirects=False, timeout=10)
    finally:
        iam_server.logout()
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


async def begin(
    client: httpx.AsyncClient, provider: str = "iam", **overrides: str
) -> dict[str, Any]:
    variables = {"provider": provider, "redirectUri": REDIRECT_URI, **overrides}
    return result(await call(client, BEGIN, variables))


async def complete(
    client: httpx.AsyncClient, provider: str = "iam", **callback: str
) -> dict[str, Any]:
    variables = {"provider": provider, **callback}
    return result(await call(client, COMPLETE, variables))


async def social_sign_in(
    client: httpx.AsyncClient,
    iam: Any,
    person: Any,
    provider: str = "iam",
    device_token: str | None = None,
) -> dict[str, Any]:
    """Begin, the provider's login and consent, and complete: the completion's answer
    (``device_token``: a trusted device's, sent with the completion)."""
    begun = await begin(client, provider)
    assert begun["__typename"] == "SocialAuthorization", begun
    callback = authorize(iam, begun["authorizationUrl"], person)
    answer = {"code": callback["code"], "state": callback["state"]}
    if device_token is not None:
        answer["deviceToken"] = device_token
    return await complete(client, provider, **answer)


async def link_another(
    client: httpx.AsyncClient, iam: Any, token: str, email: str
) -> dict[str, Any]:
    """Link a (new) identity at the provider with ``email`` to the signed-in account:
    ``linkSocialIdentity``'s answer."""
    variables = {"provider": "iam", "redirectUri": REDIRECT_URI}
    begun = result(await call(client, BEGIN_LINK, variables, token))
    assert begun["__typename"] == "SocialAuthorization", begun
    callback = authorize(iam, begun["authorizationUrl"], provider_user(iam, email))
    answer = {"provider": "iam", "code": callback["code"], "state": callback["state"]}
    return result(await call(client, LINK, answer, token))
