"""GraphQL documents and small helpers shared by the identity API tests."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.support.smtp import MailInbox

PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "plaid umbrella jumps quietly 77"

ERROR_FIELDS = "... on UserError { __typename message code }"
VALIDATION = "... on ValidationFailed { fieldErrors { field message code } }"
AUTH_FIELDS = """
  ... on AuthPayload {
    accessToken refreshToken tokenType expiresIn sessionId
    accessTokenExpiresAt refreshTokenExpiresAt
    user { id email firstName lastName role emailVerified }
  }
"""

REGISTER = f"""
mutation Register($email: String!, $password: String!, $first: String!, $last: String!) {{
  register(email: $email, password: $password, firstName: $first, lastName: $last) {{
    __typename
    ... on RegistrationAccepted {{ message }}
    {ERROR_FIELDS} {VALIDATION}
  }}
}}"""
VERIFY = f"""
mutation Verify($token: String!) {{
  verifyEmail(token: $token) {{
    __typename ... on EmailVerified {{ user {{ id email emailVerified }} }} {ERROR_FIELDS}
  }}
}}"""
RESEND = f"""
mutation Resend($email: String!) {{
  resendVerificationEmail(email: $email) {{
    __typename ... on EmailRequestAccepted {{ message }} {ERROR_FIELDS}
  }}
}}"""
LOGIN = f"""
mutation Login($email: String!, $password: String!) {{
  login(email: $email, password: $password) {{
    __typename {AUTH_FIELDS} {ERROR_FIELDS} {VALIDATION}
  }}
}}"""
REFRESH = f"""
mutation Refresh($token: String!) {{
  refreshToken(token: $token) {{ __typename {AUTH_FIELDS} {ERROR_FIELDS} }}
}}"""
ME = "query Me { me { id email firstName lastName role emailVerified createdAt lastLoginAt } }"
SESSIONS = "query Sessions { mySessions { id device ip userAgent current createdAt lastSeenAt } }"
LOGOUT = "mutation Logout { logout { sessionsEnded } }"
LOGOUT_ALL = """
mutation LogoutAll($keep: Boolean!) { logoutAll(keepCurrent: $keep) { sessionsEnded } }"""
REVOKE_SESSION = f"""
mutation Revoke($id: String!) {{
  revokeSession(id: $id) {{ __typename ... on SessionRevoked {{ id }} {ERROR_FIELDS} }}
}}"""
CHANGE_PASSWORD = f"""
mutation Change($current: String!, $new: String!) {{
  changePassword(currentPassword: $current, newPassword: $new) {{
    __typename ... on PasswordChanged {{ otherSessionsEnded }} {ERROR_FIELDS} {VALIDATION}
  }}
}}"""
REQUEST_RESET = f"""
mutation RequestReset($email: String!) {{
  requestPasswordReset(email: $email) {{
    __typename ... on EmailRequestAccepted {{ message }} {ERROR_FIELDS}
  }}
}}"""
RESET = f"""
mutation Reset($token: String!, $password: String!) {{
  resetPassword(token: $token, newPassword: $password) {{
    __typename ... on PasswordResetCompleted {{ message }} {ERROR_FIELDS} {VALIDATION}
  }}
}}"""
UPDATE_PROFILE = f"""
mutation Update($first: String, $last: String) {{
  updateProfile(firstName: $first, lastName: $last) {{
    __typename ... on ProfileUpdated {{ user {{ firstName lastName }} }} {ERROR_FIELDS} {VALIDATION}
  }}
}}"""
REQUEST_EMAIL_CHANGE = f"""
mutation ChangeEmail($email: String!, $password: String!) {{
  requestEmailChange(newEmail: $email, currentPassword: $password) {{
    __typename ... on EmailRequestAccepted {{ message }} {ERROR_FIELDS} {VALIDATION}
  }}
}}"""
CONFIRM_EMAIL_CHANGE = f"""
mutation ConfirmEmail($token: String!) {{
  confirmEmailChange(token: $token) {{
    __typename ... on EmailChanged {{ user {{ email emailVerified }} }} {ERROR_FIELDS}
  }}
}}"""

_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}.{next(_counter)}@example.com"


async def call(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    user_agent: str | None = None,
) -> dict[str, Any]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if user_agent:
        headers["User-Agent"] = user_agent
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    assert "Traceback" not in response.text
    return body


async def register(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    body = await call(
        client, REGISTER, {"email": email, "password": password, "first": "Ada", "last": "Lovelace"}
    )
    result: dict[str, Any] = body["data"]["register"]
    return result


async def verified_user(
    client: httpx.AsyncClient, inbox: MailInbox, email: str | None = None
) -> str:
    email = email or unique_email()
    assert (await register(client, email))["__typename"] == "RegistrationAccepted"
    (mail,) = await inbox.wait_for(email, "Confirm your email")
    verified = await call(client, VERIFY, {"token": mail.token()})
    assert verified["data"]["verifyEmail"]["__typename"] == "EmailVerified"
    return email


async def login(
    client: httpx.AsyncClient,
    email: str,
    password: str = PASSWORD,
    user_agent: str | None = None,
) -> dict[str, Any]:
    body = await call(client, LOGIN, {"email": email, "password": password}, user_agent=user_agent)
    result: dict[str, Any] = body["data"]["login"]
    return result


def error_code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code
