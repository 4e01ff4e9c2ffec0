"""Two accounts confirming a move to the same address at once (security review,
finding 7), through GraphQL on real FerretDB and Redis.

On FerretDB an update that breaks the unique email index fails as a generic error, not
a duplicate-key one; it used to reach the client as INTERNAL_SERVER_ERROR, with the
loser's link already spent. Now exactly one wins, the other is told EmailTaken, and
its link still works once the address is free again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.core.clock import utcnow
from domain.core.settings import Settings
from domain.identity.documents import User
from tests.api.identity_ops import (
    CONFIRM_EMAIL_CHANGE,
    PASSWORD,
    REQUEST_EMAIL_CHANGE,
    call,
    login,
    unique_email,
    verified_user,
)
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


async def change_link(
    client: httpx.AsyncClient, inbox: MailInbox, email: str, new_email: str, count: int = 1
) -> str:
    """Ask to move ``email`` to ``new_email``; the link mailed to the new address."""
    access = (await login(client, email))["accessToken"]
    asked = await call(
        client, REQUEST_EMAIL_CHANGE, {"email": new_email, "password": PASSWORD}, access
    )
    assert asked["data"]["requestEmailChange"]["__typename"] == "EmailRequestAccepted"
    mails = await inbox.wait_for(new_email, "Confirm your new email", count=count)
    return mails[-1].token()


async def confirm(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await call(client, CONFIRM_EMAIL_CHANGE, {"token": token})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["confirmEmailChange"]
    return result


async def test_racing_confirmations_one_wins_and_the_loser_keeps_its_link(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    first, second = [await verified_user(client, mail_inbox) for _ in range(2)]
    wanted = unique_email("wanted")
    tokens = {
        first: await change_link(client, mail_inbox, first, wanted),
        second: await change_link(client, mail_inbox, second, wanted, count=2),
    }
    results = await asyncio.gather(*(confirm(client, t) for t in tokens.values()))
    kinds = sorted(r["__typename"] for r in results)
    assert kinds == ["EmailChanged", "EmailTaken"], results
    outcomes = dict(zip(tokens, results, strict=True))
    loser = next(e for e, r in outcomes.items() if r["__typename"] != "EmailChanged")
    assert await User.find(User.email == wanted).count() == 1

    # The winner moves on; the loser's same link now goes through.
    moved_on = unique_email("moved-on")
    token = await change_link(client, mail_inbox, wanted, moved_on)
    assert (await confirm(client, token))["__typename"] == "EmailChanged"
    done = await confirm(client, tokens[loser])
    assert done["__typename"] == "EmailChanged"
    assert done["user"]["email"] == wanted
    assert (await login(client, wanted))["__typename"] == "AuthPayload"


async def test_a_collision_the_lookup_misses_is_email_taken_not_an_error(
    client: httpx.AsyncClient, mail_inbox: MailInbox, app: Any
) -> None:
    """The unique index, not the look-up before it, has the last word: an owner the
    look-up cannot see (written straight into the database, no identifier yet) makes
    the update itself collide, which FerretDB reports as a generic failure."""
    email = await verified_user(client, mail_inbox)
    wanted = unique_email("hidden-owner")
    token = await change_link(client, mail_inbox, email, wanted)
    now = utcnow()
    owner = User(
        email=wanted,
        first_name="Hidden",
        last_name="Owner",
        password_hash=await app.state.hasher.hash(PASSWORD),
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    await owner.insert()
    assert (await confirm(client, token))["__typename"] == "EmailTaken"
    # Nothing changed, and the link was not spent.
    assert (await login(client, email))["__typename"] == "AuthPayload"
    await owner.delete()
    assert (await confirm(client, token))["__typename"] == "EmailChanged"
