"""The provider's own tokens, against a real provider (Canaille, pytest-iam, whose access
tokens its userinfo endpoint checks and whose refresh tokens rotate):

- with ``GATEHOUSE_SOCIAL_STORE_PROVIDER_TOKENS`` on (this module's app) the access and
  refresh tokens of a sign-in or a link are kept sealed on the identity, bound to it;
  ``provider_access_token`` hands out a working one, refreshed at the provider once
  expired by our clock; a refresh the provider refuses drops them; unlinking drops them;
- with it off (the default; the last test, on a second app) nothing is kept, and what
  an earlier setting kept goes at the next sign-in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.secret_box import SecretDecryptionError
from domain.social.documents import SocialIdentity
from domain.social.tokens import ProviderTokenVault
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import result
from tests.social.support import (
    CONFIRM_LINK,
    UNLINK,
    link_another,
    provider_user,
    social_sign_in,
)
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client


@pytest.fixture(scope="module")
def social_settings(social_settings: dict[str, Any]) -> dict[str, Any]:
    return {**social_settings, "social_store_provider_tokens": True}


def vault(manager: LifespanManager) -> ProviderTokenVault:
    tokens: ProviderTokenVault = manager.state.services.social_tokens
    return tokens


def userinfo(provider: Any, access_token: str) -> httpx.Response:
    """The provider's own check of an access token: its userinfo endpoint."""
    discovery = httpx.get(f"{provider.url}.well-known/openid-configuration", timeout=10).json()
    headers = {"Authorization": f"Bearer {access_token}"}
    return httpx.get(discovery["userinfo_endpoint"], headers=headers, timeout=10)


async def kept(key: str) -> SocialIdentity:
    identity = await SocialIdentity.get(key)
    assert identity is not None
    assert identity.provider_tokens is not None, "no provider tokens kept"
    return identity


async def signed_in_identity(client: httpx.AsyncClient, provider: Any) -> tuple[Any, str, str]:
    """A new social account: the person, the identity's key and Gatehouse's token."""
    person = provider_user(provider, unique_email("tokens"))
    answer = await social_sign_in(client, provider, person)
    assert answer["__typename"] == "AuthPayload", answer
    return person, f"iam:{person.user_name}", answer["accessToken"]


async def test_the_tokens_are_kept_sealed_and_bound_to_the_identity(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    person, key, _ = await signed_in_identity(client, provider)
    identity = await kept(key)
    sealed = identity.provider_tokens
    assert sealed is not None
    assert sealed.access_token.startswith("v1.")
    assert sealed.refresh_token is not None
    assert sealed.refresh_token.startswith("v1.")
    assert sealed.expires_at is not None

    access = await vault(manager).provider_access_token(identity)
    assert access is not None
    assert access not in identity.model_dump_json()  # only sealed at rest
    answer = userinfo(provider, access)
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"] == person.user_name

    # Sealed for this identity and this role: copied onto another identity, or the
    # refresh token moved into the access token's place, they do not open.
    _, other_key, _ = await signed_in_identity(client, provider)
    collection = SocialIdentity.get_pymongo_collection()
    copied = {"$set": {"provider_tokens": sealed.model_dump()}}
    await collection.update_one({"_id": other_key}, copied)
    with pytest.raises(SecretDecryptionError):
        await vault(manager).provider_access_token(other_key)
    swapped = {**sealed.model_dump(), "access_token": sealed.refresh_token}
    await collection.update_one({"_id": key}, {"$set": {"provider_tokens": swapped}})
    with pytest.raises(SecretDecryptionError):
        await vault(manager).provider_access_token(key)


async def test_an_expired_token_is_refreshed_at_the_provider(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager, clock: FrozenClock
) -> None:
    person, key, _ = await signed_in_identity(client, provider)
    before = (await kept(key)).provider_tokens
    assert before is not None
    assert before.expires_at is not None
    first = await vault(manager).provider_access_token(key)
    # Still fresh: the same token, no call to the provider.
    assert await vault(manager).provider_access_token(key) == first

    late = before.expires_at.replace(tzinfo=UTC) - clock.now() + timedelta(seconds=1)
    clock.advance(late)
    try:
        refreshed = await vault(manager).provider_access_token(key)
        again = await vault(manager).provider_access_token(key)
    finally:
        clock.advance(-late)
    assert refreshed is not None
    assert refreshed != first
    assert again == refreshed  # the refreshed token is kept, with its new expiry
    answer = userinfo(provider, refreshed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"] == person.user_name
    after = (await kept(key)).provider_tokens
    assert after is not None
    assert after.refresh_token != before.refresh_token  # Canaille rotates it


async def test_a_refresh_the_provider_refuses_drops_the_tokens(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager, clock: FrozenClock
) -> None:
    person, key, _ = await signed_in_identity(client, provider)
    before = (await kept(key)).provider_tokens
    assert before is not None
    assert before.expires_at is not None
    # The person revokes Gatehouse's grant at the provider.
    for token in provider.backend.query(provider.models.Token, subject=person):
        token.revokation_date = datetime.now(UTC)
        provider.backend.save(token)
    late = before.expires_at.replace(tzinfo=UTC) - clock.now() + timedelta(seconds=1)
    clock.advance(late)
    try:
        assert await vault(manager).provider_access_token(key) is None
    finally:
        clock.advance(-late)
    identity = await SocialIdentity.get(key)
    assert identity is not None  # still linked: it signs in; only the tokens went
    assert identity.provider_tokens is None


async def test_linking_keeps_the_tokens_and_unlinking_drops_them(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    email = unique_email("linktokens")
    await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    token = (await login(client, email))["accessToken"]
    # Linked while signed in ...
    linked = await link_another(client, provider, token, unique_email("linkedtokens"))
    assert linked["__typename"] == "SocialIdentityLinked", linked
    by_link = linked["identity"]["id"]
    assert (await kept(by_link)).provider_tokens is not None
    # ... and after an AccountLinkRequired, proven by signing in to the account (the
    # tokens waited, sealed, with the link token).
    person = provider_user(provider, email)
    required = await social_sign_in(client, provider, person)
    assert required["__typename"] == "AccountLinkRequired", required
    confirmed = result(await call(client, CONFIRM_LINK, {"token": required["linkToken"]}, token))
    assert confirmed["__typename"] == "SocialIdentityLinked", confirmed
    by_proof = f"iam:{person.user_name}"
    access = await vault(manager).provider_access_token(await kept(by_proof))
    assert access is not None
    assert userinfo(provider, access).status_code == 200

    for key in (by_link, by_proof):
        unlinked = result(await call(client, UNLINK, {"id": key}, token))
        assert unlinked["__typename"] == "SocialIdentityUnlinked", unlinked
        assert await SocialIdentity.get(key) is None
        assert await vault(manager).provider_access_token(key) is None


async def test_with_the_setting_off_nothing_is_kept(
    client: httpx.AsyncClient,
    provider: Any,
    app_with: AppWith,
    clock: FrozenClock,
    social_settings: dict[str, Any],
) -> None:
    # Last in this module: the second app rebinds the documents to its own client.
    person, key, _ = await signed_in_identity(client, provider)
    assert (await kept(key)).provider_tokens is not None  # kept while the setting was on
    off = {**social_settings, "social_store_provider_tokens": False}
    async with app_with(clock=clock, **off) as running, asgi_client(running) as http:
        assert await vault(running).provider_access_token(key) is None
        # The next sign-in drops what the earlier setting kept ...
        again = await social_sign_in(http, provider, person)
        assert again["__typename"] == "AuthPayload", again
        identity = await SocialIdentity.get(key)
        assert identity is not None
        assert identity.provider_tokens is None
        # ... and a new identity keeps none.
        _, new_key, _ = await signed_in_identity(http, provider)
        fresh = await SocialIdentity.get(new_key)
        assert fresh is not None
        assert fresh.provider_tokens is None
