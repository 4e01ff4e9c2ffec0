"""The OpenID provider's sign-in page under ``breached_password_sign_in=require``: a right
but breached password signs nobody in there either (the same LoginService as GraphQL),
and the page says why; nothing is looked up for a wrong password."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.sessions.documents import Session
from scripts.build_breached_filter import compile_list
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LISTED = "velvet canyon drifts slowly 92"


@pytest.fixture(scope="module")
async def op(
    app_with: AppWith, clock: FrozenClock, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LocalProvider]:
    folder = tmp_path_factory.mktemp("breached")
    (folder / "list.txt").write_text(LISTED + "\n")
    compile_list(folder / "list.txt", folder / "list.bloom")
    async with local_provider(
        app_with,
        clock,
        breached_password_list_path=folder / "list.bloom",
        breached_password_sign_in="require",
    ) as provider:
        await provider.add_client(
            "wiki", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid"], firstParty=True,
            grantTypes=["AUTHORIZATION_CODE"],
        )  # fmt: skip
        yield provider


async def test_the_sign_in_page_holds_a_breached_password(op: LocalProvider) -> None:
    user = await staff_account(op.app.state, "page.breached@example.com", LISTED, Role.STUDENT)
    rp = op.rp("wiki", scope="openid")
    url, _ = rp.create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=secrets.token_urlsafe(48)
    )
    async with op.http() as browser:
        first = await browser.get(url)
        page = await browser.get(first.headers["location"])
        form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
        posted = await browser.post(
            "/oauth2/login", data={**form, "email": user.email, "password": LISTED}
        )
    assert posted.status_code == 400
    assert "set-cookie" not in posted.headers
    assert "exposed in data breaches" in posted.text
    assert await Session.find(Session.user_id == user.id).count() == 0
