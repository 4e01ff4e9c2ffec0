"""GraphQL documents and helpers shared by the passwordless tests (emailed codes and
links, trusted devices, sign-in methods)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from beanie import SortDirection

from domain.email.outbox import EmailMessage
from tests.api.identity_ops import call
from tests.support.asgi import LifespanManager

ERRORS = "... on UserError { code message }"
AUTH = """... on AuthPayload { accessToken refreshToken sessionId deviceToken
    user { id email emailVerified } }
  ... on MfaRequired { challengeToken methods }"""

REQUEST = f"""mutation($email: String!) {{ requestEmailSignIn(email: $email) {{
  __typename ... on EmailSignInRequested {{ message expiresAt }}
  ... on ValidationFailed {{ fieldErrors {{ field code }} }} {ERRORS} }} }}"""
COMPLETE = f"""mutation($email: String, $code: String, $token: String, $deviceToken: String) {{
  completeEmailSignIn(email: $email, code: $code, token: $token, deviceToken: $deviceToken) {{
    __typename {AUTH} ... on ValidationFailed {{ fieldErrors {{ field code }} }}
    {ERRORS} }} }}"""
LOGIN = f"""mutation($email: String!, $password: String!, $deviceToken: String) {{
  login(email: $email, password: $password, deviceToken: $deviceToken) {{
    __typename {AUTH} {ERRORS} }} }}"""
COMPLETE_MFA = f"""mutation($challenge: String!, $code: String, $remember: Boolean) {{
  completeMfaLogin(challengeToken: $challenge, code: $code, rememberDevice: $remember) {{
    __typename ... on AuthPayload {{ accessToken sessionId deviceToken user {{ id }} }}
    {ERRORS} }} }}"""
TRUSTED = "query { myTrustedDevices { id device ip createdAt lastUsedAt expiresAt } }"
REVOKE_TRUSTED = f"""mutation($id: ID!) {{ revokeTrustedDevice(id: $id) {{
  __typename ... on TrustedDeviceRevoked {{ id }} {ERRORS} }} }}"""
METHODS = "query { me { signInMethods twoFactorEnabled } }"
BEGIN_REAUTH = f"""mutation {{ beginPasskeyReauthentication {{
  __typename ... on PasskeyReauthenticationOptions {{ options expiresAt }}
  ... on ValidationFailed {{ fieldErrors {{ field code }} }} {ERRORS} }} }}"""
REAUTHENTICATE = f"""mutation($passkey: JSON, $password: String) {{
  reauthenticate(passkey: $passkey, password: $password) {{
    __typename ... on Reauthenticated {{ accessToken authTime }}
    ... on ValidationFailed {{ fieldErrors {{ field code }} }} {ERRORS} }} }}"""


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """The one field's answer (its union member)."""
    assert "errors" not in body, body
    (value,) = body["data"].values()
    return dict(value)


async def request_code(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    return answer(await call(client, REQUEST, {"email": email}))


async def complete(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    return answer(await call(client, COMPLETE, variables))


async def emailed(manager: LifespanManager, email: str) -> tuple[str, str]:
    """The code and the link token of the latest sign-in email to ``email``."""
    message = (
        await EmailMessage.find({"to": email, "template": "email_sign_in"})
        .sort([("created_at", SortDirection.DESCENDING), ("_id", SortDirection.DESCENDING)])
        .first_or_none()
    )
    assert message is not None, f"no sign-in email to {email}"
    context = manager.state.services.outbox.open_context(message)
    (token,) = parse_qs(urlsplit(context["link"]).query)["token"]
    return str(context["code"]), token


async def sign_in_emails(email: str) -> int:
    return await EmailMessage.find({"to": email, "template": "email_sign_in"}).count()
