"""GraphQL documents of headless login and consent, and a login UI's steps, shared by
the provider's tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.api.identity_ops import call

LOGIN_UI = "https://login.example.com/ui"
CHALLENGE = """
query($c: String!) {
  oauthChallenge(challenge: $c) {
    __typename
    ... on OAuthChallenge { challenge stage clientId clientName scopes prompts loginHint }
    ... on InvalidToken { code }
  }
}"""
_ANSWER = """
mutation($c: String!) {
  %s(challenge: $c) {
    __typename ... on OAuthChallengeAnswered { redirectTo }
    ... on UserError { code message }
  }
}"""
ACCEPT_LOGIN = _ANSWER % "acceptLoginChallenge"
ACCEPT_CONSENT = _ANSWER % "acceptConsentChallenge"
REJECT = _ANSWER % "rejectChallenge"


def challenge_of(location: str, stage: str) -> str:
    """The challenge a redirect to the login UI carries (``login`` or ``consent``)."""
    assert location.startswith(LOGIN_UI + "?"), location
    return parse_qs(urlsplit(location).query)[f"{stage}_challenge"][0]


async def answer(
    http: httpx.AsyncClient, document: str, challenge: str, token: str | None
) -> dict[str, Any]:
    body = await call(http, document, {"c": challenge}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = next(iter(body["data"].values()))
    return result
