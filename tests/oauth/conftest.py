"""A real uvicorn serving Gatehouse on 127.0.0.1 for the OpenID provider's tests, with
an admin, a person (with and without TOTP) and the clients registered through GraphQL."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import services

from domain.core.clock import SystemClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.passwords import create_password_hasher
from domain.identity.provisioning import create_user
from tests.api.identity_ops import PASSWORD, login
from tests.oauth.support import create_client
from tests.support.processes import ROOT, settings_env

RP = "https://rp.example.com/callback"
RP_SIGNED_OUT = "https://rp.example.com/signed-out?from=gatehouse"
NATIVE = "http://127.0.0.1:7777/callback"
USER_EMAIL = "ada@example.com"


@dataclass
class Provider:
    base: str
    confidential: dict[str, Any]
    public: dict[str, Any]
    first_party: dict[str, Any]
    service: dict[str, Any]
    admin_token: str


@pytest.fixture(scope="module")
def port() -> int:
    return services.free_port()


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], port: int) -> Settings:
    return make_settings(public_url=f"http://127.0.0.1:{port}", log_level="INFO")


@pytest.fixture(scope="module")
def server(
    settings: Settings, port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("oidc") / "api.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env={**settings_env(settings), "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        services.wait_for_port(port, process, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
async def provider(server: str, settings: Settings, database: None) -> AsyncIterator[Provider]:
    hasher = create_password_hasher(settings)
    common = dict(settings=settings, clock=SystemClock(), hasher=hasher, password=PASSWORD)
    await create_user(**common, email="op.admin@example.com", first_name="Op", last_name="Admin",
                      role=Role.ADMIN, email_verified=True)  # fmt: skip
    await create_user(**common, email=USER_EMAIL, first_name="Ada", last_name="Lovelace",
                      role=Role.STUDENT, email_verified=True)  # fmt: skip
    hasher.close()
    async with httpx.AsyncClient(base_url=server) as http:
        token = (await login(http, "op.admin@example.com"))["accessToken"]
        scopes = ["openid", "email", "profile", "offline_access"]
        confidential = await create_client(
            http, token, "CONFIDENTIAL", name="Wiki", redirectUris=[RP],
            postLogoutRedirectUris=[RP_SIGNED_OUT],
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"], scopes=scopes,
        )  # fmt: skip
        public = await create_client(
            http, token, "PUBLIC", name="CLI", redirectUris=[NATIVE],
            grantTypes=["AUTHORIZATION_CODE"], scopes=["openid", "email"], firstParty=True,
        )  # fmt: skip
        first_party = await create_client(
            http, token, "CONFIDENTIAL", name="Portal", redirectUris=[RP],
            grantTypes=["AUTHORIZATION_CODE"], scopes=["openid", "email"], firstParty=True,
        )  # fmt: skip
        service = await create_client(
            http, token, "CONFIDENTIAL", name="Billing", grantTypes=["CLIENT_CREDENTIALS"],
            scopes=["invoices:read"], audience="https://billing.example.com",
        )  # fmt: skip
        yield Provider(server, confidential, public, first_party, service, token)


@pytest.fixture
async def browser(provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    """A person's browser: keeps the provider's cookies, follows nothing by itself."""
    async with httpx.AsyncClient(base_url=provider.base) as http:
        yield http


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_CHALLENGE = re.compile(r'name="challenge" value="([^"]+)"')


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)
