"""Account takeover through the email change (ASVS 4.0.3 V2.2.3, V2.5.6, V3.3.3, V3.7.1),
through GraphQL on real FerretDB, Redis, SMTP (aiosmtpd) and a worker process.

A stolen session alone cannot move the account to the thief's address: the change needs
the current password, a link sent to the new address, and the old address is told. Once
the change is confirmed, every session ends and links mailed to the old address (a
password reset, say) stop working, so a compromised old mailbox cannot take it back.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from domain.core.settings import Settings
from domain.identity.documents import User
from tests.api.identity_ops import (
    CHANGE_PASSWORD,
    CONFIRM_EMAIL_CHANGE,
    ME,
    NEW_PASSWORD,
    PASSWORD,
    REQUEST_EMAIL_CHANGE,
    REQUEST_RESET,
    RESET,
    VERIFY,
    call,
    error_code,
    login,
    unique_email,
    verified_user,
)
from tests.security.support import audit_events
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port, lockout_threshold=3)


async def change(
    client: httpx.AsyncClient, token: str, new_email: str, password: str = PASSWORD
) -> str:
    body = await call(
        client, REQUEST_EMAIL_CHANGE, {"email": new_email, "password": password}, token
    )
    return str(body["data"]["requestEmailChange"]["__typename"])


async def test_stolen_session_without_the_password_cannot_move_the_account(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    stolen = (await login(client, email))["accessToken"]
    thief = unique_email("thief")
    kinds = [await change(client, stolen, thief, f"guessed password {i}") for i in range(3)]
    # Each guess counts toward the lock, as a login would; the third locks the account.
    assert kinds == ["InvalidCredentials"] * 2 + ["AccountLocked"]
    assert mail_inbox.all(thief) == []
    user = await User.find_one(User.email == email)
    assert user is not None
    assert user.locked_at is not None
    assert await audit_events("user.email_change_requested", target_id=str(user.id)) == []
    (locked,) = await audit_events("user.locked", target_id=str(user.id))
    assert locked.details["failed_attempts"] == 3
    # The locked account answers the same typed refusal to a password change (it was an
    # INTERNAL_SERVER_ERROR: AccountLocked was missing from both result unions).
    guess = await call(
        client, CHANGE_PASSWORD, {"current": "another guess 4", "new": NEW_PASSWORD}, stolen
    )
    assert guess["data"]["changePassword"]["__typename"] == "AccountLocked"


async def test_change_needs_the_new_mailbox_and_tells_the_old_one(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    session = await login(client, email)
    new_email = unique_email("moved")
    assert await change(client, session["accessToken"], new_email) == "EmailRequestAccepted"
    (notice,) = await mail_inbox.wait_for(email, "being changed")
    assert new_email not in notice.text  # the old inbox sees a masked address
    (confirm,) = await mail_inbox.wait_for(new_email, "Confirm your new email")
    # Until the link is used nothing has changed, and the link is for this purpose only.
    assert (await login(client, email))["__typename"] == "AuthPayload"
    wrong_purpose = await call(client, VERIFY, {"token": confirm.token()})
    assert wrong_purpose["data"]["verifyEmail"]["__typename"] == "InvalidToken"
    done = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert done["data"]["confirmEmailChange"]["user"]["email"] == new_email
    user = await User.find_one(User.email == new_email)
    assert user is not None
    (event,) = await audit_events("user.email_changed", target_id=str(user.id))
    assert event.before == {"email": email}
    assert event.after == {"email": new_email}


async def test_confirmed_change_ends_sessions_and_old_mailbox_links(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    sessions = [await login(client, email) for _ in range(2)]
    # Someone reading the old mailbox asks for a reset link before the owner moves away.
    await call(client, REQUEST_RESET, {"email": email})
    (reset_mail,) = await mail_inbox.wait_for(email, "Reset your Gatehouse password")
    new_email = unique_email("escaped")
    assert await change(client, sessions[0]["accessToken"], new_email) == "EmailRequestAccepted"
    (confirm,) = await mail_inbox.wait_for(new_email, "Confirm your new email")
    done = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert done["data"]["confirmEmailChange"]["__typename"] == "EmailChanged"

    for session in sessions:
        assert error_code(await call(client, ME, token=session["accessToken"])) == (
            "UNAUTHENTICATED"
        )
    late = await call(client, RESET, {"token": reset_mail.token(), "password": NEW_PASSWORD})
    assert late["data"]["resetPassword"]["__typename"] == "InvalidToken"
    assert (await login(client, new_email))["__typename"] == "AuthPayload"
    user = await User.find_one(User.email == new_email)
    assert user is not None
    (ended,) = await audit_events("session.revoked_all", target_id=str(user.id))
    assert ended.details == {"reason": "email_changed", "sessions": 2}


async def test_address_taken_between_request_and_confirmation_is_refused(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    access = (await login(client, email))["accessToken"]
    contested = unique_email("contested")
    assert await change(client, access, contested) == "EmailRequestAccepted"
    (confirm,) = await mail_inbox.wait_for(contested, "Confirm your new email")
    await verified_user(client, mail_inbox, contested)
    clash = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert clash["data"]["confirmEmailChange"]["__typename"] in ("EmailTaken", "InvalidToken")
    assert await User.find(User.email == contested).count() == 1
    assert await User.find(User.email == email).count() == 1
