"""Accounts and authentication through GraphQL, on FerretDB, Redis and a real SMTP server."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.core.settings import Settings
from domain.identity.documents import User
from domain.lockout.counter import AttemptCounter
from tests.api.identity_ops import (
    CHANGE_PASSWORD,
    CONFIRM_EMAIL_CHANGE,
    LOGOUT,
    LOGOUT_ALL,
    ME,
    NEW_PASSWORD,
    PASSWORD,
    REFRESH,
    REQUEST_EMAIL_CHANGE,
    REQUEST_RESET,
    RESEND,
    RESET,
    REVOKE_SESSION,
    SESSIONS,
    UPDATE_PROFILE,
    VERIFY,
    call,
    error_code,
    login,
    register,
    unique_email,
    verified_user,
)
from tests.support.asgi import LifespanManager
from tests.support.smtp import MailInbox

# Another browser than the test client's: its replays are outside the refresh grace.
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0.0.0 Safari/537.36"


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


async def test_whole_journey(client: httpx.AsyncClient, mail_inbox: MailInbox) -> None:
    email = unique_email("journey")
    accepted = await register(client, email)
    assert accepted["__typename"] == "RegistrationAccepted"

    (mail,) = await mail_inbox.wait_for(email, "Confirm your email")
    assert "token=" in mail.text
    # Before verification the login is refused with a typed result.
    assert (await login(client, email))["__typename"] == "EmailNotVerified"

    verified = (await call(client, VERIFY, {"token": mail.token()}))["data"]["verifyEmail"]
    assert verified["__typename"] == "EmailVerified"
    assert verified["user"]["emailVerified"] is True

    session = await login(client, email, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    assert session["__typename"] == "AuthPayload"
    assert session["tokenType"] == "Bearer"
    assert 0 < session["expiresIn"] <= 900
    assert session["user"]["email"] == email
    access, refresh = session["accessToken"], session["refreshToken"]

    me = (await call(client, ME, token=access))["data"]["me"]
    assert me["email"] == email
    assert me["firstName"] == "Ada"
    assert me["role"] == "STUDENT"
    assert me["lastLoginAt"] is not None

    rotated = (await call(client, REFRESH, {"token": refresh}))["data"]["refreshToken"]
    assert rotated["__typename"] == "AuthPayload"
    assert rotated["refreshToken"] != refresh
    assert rotated["accessToken"] != access
    assert rotated["sessionId"] == session["sessionId"]
    new_access = rotated["accessToken"]
    assert (await call(client, ME, token=new_access))["data"]["me"]["email"] == email

    logout = await call(client, LOGOUT, token=new_access)
    assert logout["data"]["logout"]["sessionsEnded"] == 1
    refused = await call(client, ME, token=new_access)
    assert refused["data"] is None
    assert error_code(refused) == "UNAUTHENTICATED"
    # The refresh token of the ended session is dead too.
    after = (await call(client, REFRESH, {"token": rotated["refreshToken"]}))["data"]
    assert after["refreshToken"]["__typename"] == "InvalidRefreshToken"


async def test_rotated_token_reuse_revokes_the_family(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    first = await login(client, email)
    second = (await call(client, REFRESH, {"token": first["refreshToken"]}))["data"]["refreshToken"]
    assert second["__typename"] == "AuthPayload"

    # From another client than the one that rotated it, the refresh grace does not apply.
    replay = (await call(client, REFRESH, {"token": first["refreshToken"]}, user_agent=CHROME))[
        "data"
    ]["refreshToken"]
    assert replay["__typename"] == "RefreshTokenReused"
    assert replay["code"] == "REFRESH_TOKEN_REUSED"

    # The whole family is gone: the newest refresh token and its access token too.
    newest = (await call(client, REFRESH, {"token": second["refreshToken"]}))["data"]
    assert newest["refreshToken"]["__typename"] == "InvalidRefreshToken"
    assert error_code(await call(client, ME, token=second["accessToken"])) == "UNAUTHENTICATED"
    (alert,) = await mail_inbox.wait_for(email, "signed out a session")
    assert "used twice" in alert.text
    # Further replays send no more alerts.
    await call(client, REFRESH, {"token": first["refreshToken"]})
    await asyncio.sleep(0.2)
    assert len([m for m in mail_inbox.all(email) if "signed out" in m.subject]) == 1


async def test_concurrent_refreshes_have_exactly_one_winner(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["refreshToken"]
    results = await asyncio.gather(*(call(client, REFRESH, {"token": token}) for _ in range(20)))
    kinds = [r["data"]["refreshToken"]["__typename"] for r in results]
    # One rotation; up to five same-client retries get its successor (the refresh grace).
    granted = {
        r["data"]["refreshToken"]["refreshToken"]
        for r in results
        if r["data"]["refreshToken"]["__typename"] == "AuthPayload"
    }
    assert len(granted) == 1, kinds
    assert 1 <= kinds.count("AuthPayload") <= 6, kinds
    assert set(kinds) <= {"AuthPayload", "RefreshTokenReused", "InvalidRefreshToken"}


async def test_concurrent_verification_has_exactly_one_winner(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = unique_email("race")
    await register(client, email)
    (mail,) = await mail_inbox.wait_for(email, "Confirm your email")
    token = mail.token()
    results = await asyncio.gather(*(call(client, VERIFY, {"token": token}) for _ in range(20)))
    kinds = [r["data"]["verifyEmail"]["__typename"] for r in results]
    assert kinds.count("EmailVerified") == 1, kinds
    assert kinds.count("InvalidToken") == 19


async def test_concurrent_password_resets_have_exactly_one_winner(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    await call(client, REQUEST_RESET, {"email": email})
    (mail,) = await mail_inbox.wait_for(email, "Reset your")
    token = mail.token()
    passwords = [f"{NEW_PASSWORD} variant {i}" for i in range(20)]
    results = await asyncio.gather(
        *(call(client, RESET, {"token": token, "password": p}) for p in passwords)
    )
    kinds = [r["data"]["resetPassword"]["__typename"] for r in results]
    assert kinds.count("PasswordResetCompleted") == 1, kinds
    winner = passwords[kinds.index("PasswordResetCompleted")]
    assert (await login(client, email, winner))["__typename"] == "AuthPayload"
    loser = passwords[(kinds.index("PasswordResetCompleted") + 1) % 20]
    assert (await login(client, email, loser))["__typename"] == "InvalidCredentials"


async def test_register_existing_email_looks_like_success(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    fresh = await register(client, unique_email("fresh"))
    again = await register(client, email, password="another fine password 123")
    assert again == fresh
    (notice,) = await mail_inbox.wait_for(email, "tried to register")
    assert "already have an account" in notice.text
    assert await User.find(User.email == email).count() == 1


async def test_reset_and_resend_for_unknown_email_look_the_same(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    known = await verified_user(client, mail_inbox)
    unknown = unique_email("ghost")
    for document, field in (
        (REQUEST_RESET, "requestPasswordReset"),
        (RESEND, "resendVerificationEmail"),
    ):
        a = (await call(client, document, {"email": known}))["data"][field]
        b = (await call(client, document, {"email": unknown}))["data"][field]
        assert a == b
        assert a["__typename"] == "EmailRequestAccepted"
    await asyncio.sleep(0.1)
    assert mail_inbox.all(unknown) == []


async def test_login_failures_are_typed_and_alike(
    app: LifespanManager, client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    state = app.state
    lockout = AttemptCounter(state.settings, state.redis, state.clock)
    email = await verified_user(client, mail_inbox)
    wrong = await login(client, email, "not the right password at all")
    unknown = await login(client, unique_email("nobody"), "not the right password at all")
    assert wrong["__typename"] == unknown["__typename"] == "InvalidCredentials"
    assert wrong["message"] == unknown["message"]
    # The live failure count is the lockout counter (keyed by a digest of the address).
    subject = hashlib.sha256(email.encode()).hexdigest()[:32]
    assert await lockout.failures(subject) == 1
    assert (await login(client, email))["__typename"] == "AuthPayload"
    assert await lockout.failures(subject) == 0


async def test_change_password(client: httpx.AsyncClient, mail_inbox: MailInbox) -> None:
    email = await verified_user(client, mail_inbox)
    here = await login(client, email)
    elsewhere = await login(client, email)

    wrong = await call(
        client,
        CHANGE_PASSWORD,
        {"current": "nope nope nope 1", "new": NEW_PASSWORD},
        here["accessToken"],
    )
    assert wrong["data"]["changePassword"]["__typename"] == "InvalidCredentials"
    same = await call(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": PASSWORD}, here["accessToken"]
    )
    assert same["data"]["changePassword"]["fieldErrors"][0]["code"] == "PASSWORD_REUSED"
    weak = await call(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": "password"}, here["accessToken"]
    )
    assert weak["data"]["changePassword"]["__typename"] == "ValidationFailed"

    done = await call(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, here["accessToken"]
    )
    assert done["data"]["changePassword"] == {
        "__typename": "PasswordChanged",
        "otherSessionsEnded": 1,
    }
    assert error_code(await call(client, ME, token=elsewhere["accessToken"])) == "UNAUTHENTICATED"
    assert (await call(client, ME, token=here["accessToken"]))["data"]["me"]["email"] == email
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
    assert (await login(client, email, NEW_PASSWORD))["__typename"] == "AuthPayload"
    await mail_inbox.wait_for(email, "password was changed")
    # History: going back to the previous password is refused.
    back = await call(
        client, CHANGE_PASSWORD, {"current": NEW_PASSWORD, "new": PASSWORD}, here["accessToken"]
    )
    assert back["data"]["changePassword"]["fieldErrors"][0]["code"] == "PASSWORD_REUSED"


async def test_password_reset_flow(client: httpx.AsyncClient, mail_inbox: MailInbox) -> None:
    email = await verified_user(client, mail_inbox)
    session = await login(client, email)
    await call(client, REQUEST_RESET, {"email": email})
    (mail,) = await mail_inbox.wait_for(email, "Reset your")
    token = mail.token()

    weak = await call(client, RESET, {"token": token, "password": "short"})
    assert weak["data"]["resetPassword"]["__typename"] == "ValidationFailed"
    # The weak attempt did not spend the link.
    done = await call(client, RESET, {"token": token, "password": NEW_PASSWORD})
    assert done["data"]["resetPassword"]["__typename"] == "PasswordResetCompleted"
    again = await call(client, RESET, {"token": token, "password": NEW_PASSWORD + " x"})
    assert again["data"]["resetPassword"]["__typename"] == "InvalidToken"

    assert error_code(await call(client, ME, token=session["accessToken"])) == "UNAUTHENTICATED"
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
    assert (await login(client, email, NEW_PASSWORD))["__typename"] == "AuthPayload"
    await mail_inbox.wait_for(email, "password was changed")


@pytest.mark.parametrize("token", ["", "x" * 43, "not-a-token", '{"$gt": ""}', "a" * 5000])
async def test_bad_tokens_are_typed(client: httpx.AsyncClient, token: str) -> None:
    assert (await call(client, VERIFY, {"token": token}))["data"]["verifyEmail"][
        "__typename"
    ] == "InvalidToken"
    assert (await call(client, REFRESH, {"token": token}))["data"]["refreshToken"][
        "__typename"
    ] == "InvalidRefreshToken"
    assert (await call(client, RESET, {"token": token, "password": NEW_PASSWORD}))["data"][
        "resetPassword"
    ]["__typename"] == "InvalidToken"


async def test_sessions_listing_and_revocation(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    phone = await login(
        client,
        email,
        user_agent=(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
            "Version/17.0 Mobile/15E148 Safari/604.1"
        ),
    )
    laptop = await login(
        client,
        email,
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36",
    )
    sessions = (await call(client, SESSIONS, token=laptop["accessToken"]))["data"]["mySessions"]
    assert len(sessions) == 2
    by_device = {s["device"]: s for s in sessions}
    assert by_device["Chrome on Windows"]["current"] is True
    assert by_device["Safari on iOS"]["current"] is False
    assert by_device["Safari on iOS"]["ip"] == "203.0.113.7"

    other = await verified_user(client, mail_inbox)
    stranger = await login(client, other)
    # Someone else's session id is simply not found (no IDOR).
    foreign = await call(
        client, REVOKE_SESSION, {"id": phone["sessionId"]}, stranger["accessToken"]
    )
    assert foreign["data"]["revokeSession"]["__typename"] == "NotFound"
    for bogus in ("nope", "0" * 24):
        result = await call(client, REVOKE_SESSION, {"id": bogus}, laptop["accessToken"])
        assert result["data"]["revokeSession"]["__typename"] == "NotFound"

    revoked = await call(client, REVOKE_SESSION, {"id": phone["sessionId"]}, laptop["accessToken"])
    assert revoked["data"]["revokeSession"]["__typename"] == "SessionRevoked"
    assert error_code(await call(client, ME, token=phone["accessToken"])) == "UNAUTHENTICATED"
    remaining = (await call(client, SESSIONS, token=laptop["accessToken"]))["data"]["mySessions"]
    assert [s["id"] for s in remaining] == [laptop["sessionId"]]


async def test_logout_all_other_devices_then_everything(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    tokens = [await login(client, email) for _ in range(3)]
    keep = await call(client, LOGOUT_ALL, {"keep": True}, tokens[0]["accessToken"])
    assert keep["data"]["logoutAll"]["sessionsEnded"] == 2
    assert error_code(await call(client, ME, token=tokens[1]["accessToken"])) == "UNAUTHENTICATED"
    assert (await call(client, ME, token=tokens[0]["accessToken"]))["data"]["me"]
    everything = await call(client, LOGOUT_ALL, {"keep": False}, tokens[0]["accessToken"])
    assert everything["data"]["logoutAll"]["sessionsEnded"] == 1
    assert error_code(await call(client, ME, token=tokens[0]["accessToken"])) == "UNAUTHENTICATED"


async def test_profile_update(client: httpx.AsyncClient, mail_inbox: MailInbox) -> None:
    email = await verified_user(client, mail_inbox)
    access = (await login(client, email))["accessToken"]
    updated = await call(client, UPDATE_PROFILE, {"first": "  Grace  ", "last": "Hopper"}, access)
    assert updated["data"]["updateProfile"]["user"] == {"firstName": "Grace", "lastName": "Hopper"}
    bad = await call(client, UPDATE_PROFILE, {"first": "   ", "last": "x" * 101}, access)
    result = bad["data"]["updateProfile"]
    assert result["__typename"] == "ValidationFailed"
    assert {e["field"] for e in result["fieldErrors"]} == {"firstName", "lastName"}
    me = (await call(client, ME, token=access))["data"]["me"]
    assert (me["firstName"], me["lastName"]) == ("Grace", "Hopper")


async def test_email_change_by_confirmation(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    taken = await verified_user(client, mail_inbox)
    access = (await login(client, email))["accessToken"]
    new_email = unique_email("moved")

    wrong = await call(
        client, REQUEST_EMAIL_CHANGE, {"email": new_email, "password": "nope nope 123"}, access
    )
    assert wrong["data"]["requestEmailChange"]["__typename"] == "InvalidCredentials"
    clash = await call(client, REQUEST_EMAIL_CHANGE, {"email": taken, "password": PASSWORD}, access)
    assert clash["data"]["requestEmailChange"]["__typename"] == "EmailTaken"

    ok = await call(
        client, REQUEST_EMAIL_CHANGE, {"email": new_email, "password": PASSWORD}, access
    )
    assert ok["data"]["requestEmailChange"]["__typename"] == "EmailRequestAccepted"
    (confirm,) = await mail_inbox.wait_for(new_email, "Confirm your new email")
    (notice,) = await mail_inbox.wait_for(email, "being changed")
    assert new_email not in notice.text  # masked for the old inbox

    done = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert done["data"]["confirmEmailChange"]["user"]["email"] == new_email
    assert (await login(client, new_email))["__typename"] == "AuthPayload"
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
    replay = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert replay["data"]["confirmEmailChange"]["__typename"] == "InvalidToken"


@pytest.mark.parametrize(
    "token", [None, "garbage", "Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."]
)
async def test_protected_fields_need_a_valid_token(
    client: httpx.AsyncClient, token: str | None
) -> None:
    for document in (ME, SESSIONS, LOGOUT):
        body = await call(client, document, token=token)
        assert body["data"] is None
        assert error_code(body) == "UNAUTHENTICATED"


async def test_tampered_access_token_is_refused(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    import base64
    import json

    email = await verified_user(client, mail_inbox)
    access = (await login(client, email))["accessToken"]
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "super_admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    body = await call(client, ME, token=f"{header}.{forged}.{signature}")
    assert error_code(body) == "UNAUTHENTICATED"


async def test_jwks_verifies_issued_tokens(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    import jwt

    email = await verified_user(client, mail_inbox)
    access = (await login(client, email))["accessToken"]
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    assert all("d" not in key for key in keys)
    kid = jwt.get_unverified_header(access)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    public = jwt.PyJWK(jwk)
    claims = jwt.decode(access, public.key, algorithms=[jwk["alg"]], audience="gatehouse-api")
    assert claims["sub"]
    assert claims["sid"]


async def test_imported_bcrypt_hash_is_accepted_and_upgraded(client: httpx.AsyncClient) -> None:
    import bcrypt

    from domain.core.clock import utcnow
    from domain.identity import identifiers

    email = unique_email("imported")
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    now = utcnow()
    await User(
        email=email,
        first_name="Imported",
        last_name="User",
        email_verified=True,
        password_hash=legacy,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    ).insert()
    # Written straight into the database: its sign-in identifier comes from the rebuild.
    await identifiers.rebuild()
    assert (await login(client, email))["__typename"] == "AuthPayload"
    user = await User.find_one(User.email == email)
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert (await login(client, email))["__typename"] == "AuthPayload"


BAD_INPUTS: list[dict[str, Any]] = [
    {"email": "", "password": PASSWORD, "first": "A", "last": "B"},
    {"email": '{"$gt": ""}', "password": PASSWORD, "first": "A", "last": "B"},
    {"email": "a@b", "password": PASSWORD, "first": "A", "last": "B"},
    {"email": "x" * 300 + "@example.com", "password": PASSWORD, "first": "A", "last": "B"},
    {"email": "ok@example.com", "password": "", "first": "A", "last": "B"},
    {"email": "ok@example.com", "password": "p" * 129, "first": "A", "last": "B"},
    {"email": "ok@example.com", "password": "password123", "first": "A", "last": "B"},
    {"email": "ok@example.com", "password": PASSWORD, "first": "", "last": "B"},
    {"email": "ok@example.com", "password": PASSWORD, "first": "A", "last": "B" * 101},
    {"email": "ok@example.com", "password": PASSWORD, "first": "A\u0000", "last": "B"},
]


@pytest.mark.parametrize("variables", BAD_INPUTS)
async def test_bad_registration_input_is_typed_and_changes_nothing(
    client: httpx.AsyncClient, variables: dict[str, Any]
) -> None:
    from tests.api.identity_ops import REGISTER

    before = await User.count()
    body = await call(client, REGISTER, variables)
    result = body["data"]["register"]
    assert result["__typename"] == "ValidationFailed"
    assert result["fieldErrors"]
    assert all(e["message"] and e["code"] for e in result["fieldErrors"])
    assert await User.count() == before


async def test_wrong_variable_types_are_rejected_before_running(client: httpx.AsyncClient) -> None:
    from tests.api.identity_ops import LOGIN

    before = await User.count()
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": {"$gt": ""}, "password": ["x"]}},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await User.count() == before


async def test_reuse_is_still_detected_after_the_expiry_sweep(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    from datetime import timedelta

    from domain.core.clock import utcnow
    from domain.maintenance.service import purge_expired

    email = await verified_user(client, mail_inbox)
    first = await login(client, email)
    assert (await call(client, REFRESH, {"token": first["refreshToken"]}))["data"]["refreshToken"][
        "__typename"
    ] == "AuthPayload"
    # Eight days later the sweep runs; the session's family is still alive.
    await purge_expired(utcnow() + timedelta(days=8))
    replay = await call(client, REFRESH, {"token": first["refreshToken"]}, user_agent=CHROME)
    assert replay["data"]["refreshToken"]["__typename"] == "RefreshTokenReused"
