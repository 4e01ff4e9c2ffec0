"""GraphQL documents and helpers shared by the passkey tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pyotp
from beanie import PydanticObjectId

from domain.core.clock import FrozenClock
from domain.passkeys.documents import Passkey
from tests.api.identity_ops import PASSWORD, call
from tests.support.webauthn_authenticator import SoftwareAuthenticator

ERRORS = "... on UserError { code message }"
AUTH = """... on AuthPayload { accessToken refreshToken sessionId user { id email } }
  ... on MfaRequired { challengeToken methods }"""
PASSKEY_FIELDS = "id name createdAt lastUsedAt deviceType backedUp transports"

BEGIN_REGISTRATION = f"""mutation {{ beginPasskeyRegistration {{
  __typename ... on PasskeyRegistrationOptions {{ options expiresAt }} {ERRORS} }} }}"""
FINISH_REGISTRATION = f"""mutation($credential: JSON!, $name: String) {{
  finishPasskeyRegistration(credential: $credential, name: $name) {{
    __typename ... on PasskeyAdded {{ passkey {{ {PASSKEY_FIELDS} }} }}
    ... on ValidationFailed {{ fieldErrors {{ field code }} }} {ERRORS} }} }}"""
BEGIN_LOGIN = f"""mutation($email: String, $challengeToken: String) {{
  beginPasskeyLogin(email: $email, challengeToken: $challengeToken) {{
    __typename ... on PasskeyLoginOptions {{ attemptId options expiresAt }} {ERRORS} }} }}"""
FINISH_LOGIN = f"""mutation($attemptId: String!, $credential: JSON!) {{
  finishPasskeyLogin(attemptId: $attemptId, credential: $credential) {{
    __typename {AUTH} {ERRORS} }} }}"""
MY_PASSKEYS = f"query {{ myPasskeys {{ {PASSKEY_FIELDS} }} }}"
RENAME = f"""mutation($id: ID!, $name: String!) {{ renamePasskey(id: $id, name: $name) {{
  __typename ... on PasskeyRenamed {{ passkey {{ id name }} }}
  ... on ValidationFailed {{ fieldErrors {{ field code }} }} {ERRORS} }} }}"""
REMOVE = f"""mutation($id: ID!) {{ removePasskey(id: $id) {{
  __typename ... on PasskeyRemoved {{ id }} {ERRORS} }} }}"""
USER_PASSKEYS = f"""query($userId: ID!) {{ userPasskeys(userId: $userId) {{
  __typename ... on UserPasskeys {{ passkeys {{ id name }} }} {ERRORS} }} }}"""
REMOVE_USER_PASSKEY = f"""mutation($userId: ID!, $id: ID!) {{
  removeUserPasskey(userId: $userId, id: $id) {{
    __typename ... on PasskeyRemoved {{ id }} {ERRORS} }} }}"""
BEGIN_TOTP = "mutation { beginTotpEnrollment { ... on TotpEnrollment { secret } } }"
CONFIRM_TOTP = """mutation($code: String!) { confirmTotpEnrollment(code: $code) {
  __typename } }"""
PASSWORD_LOGIN = f"""mutation($email: String!, $password: String!) {{
  login(email: $email, password: $password) {{ __typename {AUTH} {ERRORS} }} }}"""
COMPLETE_MFA = f"""mutation($challenge: String!, $code: String) {{
  completeMfaLogin(challengeToken: $challenge, code: $code) {{
    __typename ... on AuthPayload {{ accessToken }} {ERRORS} }} }}"""


def result(body: dict[str, Any]) -> dict[str, Any]:
    """The one field's answer (its union member)."""
    assert "errors" not in body, body
    (answer,) = body["data"].values()
    return dict(answer)


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def register_passkey(
    client: httpx.AsyncClient,
    token: str,
    authenticator: SoftwareAuthenticator,
    name: str | None = "Laptop",
    **overrides: Any,
) -> dict[str, Any]:
    """Begin and finish a registration; the finish's answer."""
    begun = result(await call(client, BEGIN_REGISTRATION, token=token))
    assert begun["__typename"] == "PasskeyRegistrationOptions", begun
    credential = authenticator.create(begun["options"], **overrides)
    return result(
        await call(client, FINISH_REGISTRATION, {"credential": credential, "name": name}, token)
    )


async def begin_login(
    client: httpx.AsyncClient, email: str | None = None, challenge_token: str | None = None
) -> dict[str, Any]:
    variables = {"email": email, "challengeToken": challenge_token}
    begun = result(await call(client, BEGIN_LOGIN, variables))
    assert begun["__typename"] == "PasskeyLoginOptions", begun
    return begun


async def finish_login(
    client: httpx.AsyncClient, attempt_id: str, credential: Any
) -> dict[str, Any]:
    variables = {"attemptId": attempt_id, "credential": credential}
    return result(await call(client, FINISH_LOGIN, variables))


async def passkey_login(
    client: httpx.AsyncClient,
    authenticator: SoftwareAuthenticator,
    email: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    begun = await begin_login(client, email)
    return await finish_login(
        client, begun["attemptId"], authenticator.get(begun["options"], **overrides)
    )


async def enable_totp(client: httpx.AsyncClient, token: str, clock: FrozenClock) -> str:
    secret = result(await call(client, BEGIN_TOTP, token=token))["secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = result(await call(client, CONFIRM_TOTP, {"code": code}, token))
    assert confirmed["__typename"] == "BackupCodes", confirmed
    clock.advance(timedelta(seconds=30))  # the confirmation's step is spent
    return str(secret)


async def password_login(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    return result(await call(client, PASSWORD_LOGIN, {"email": email, "password": PASSWORD}))


def stored_passkey(user_id: PydanticObjectId, credential: str, transports: list[str]) -> Passkey:
    """A credential as the database holds it (for tests of what reads it), never verified."""
    return Passkey(
        _id=credential,
        user_id=user_id,
        public_key="pQECAyYgASFYIA",
        transports=transports,
        device_type="single_device",
        backed_up=False,
        aaguid="00000000-0000-0000-0000-000000000000",
        attestation_format="none",
        name="Key",
        created_at=datetime(2026, 8, 10, 9, 0, tzinfo=UTC),
    )
