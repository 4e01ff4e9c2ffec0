"""The ID token checks against a real provider (Canaille, pytest-iam): a nonce that is not
the one this sign-in sent, a token for another client, a token past its ``exp`` by the
injected clock, and the provider rotating its signing key (a new ``kid``: the key set is
fetched again, though the cached one is still fresh).

Each is the provider's real answer to a real authorization request; nothing of the
exchange is mocked. A refused token is a typed ``SocialSignInFailed``, audited with the
check that failed, and creates nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from joserfc.jwk import JWKRegistry

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.identity.documents import User
from tests.api.identity_ops import unique_email
from tests.social.conftest import provider_settings
from tests.social.support import (
    REDIRECT_URI,
    authorize,
    begin,
    complete,
    provider_user,
    register_client,
    social_sign_in,
    with_query,
)


@pytest.fixture(scope="module")
def other_audience(provider: Any) -> str:
    """A client at the provider whose ID tokens are addressed to another client only
    (Canaille sets ``aud`` from the client's audience)."""
    bystander = register_client(provider, "bystander")
    client = register_client(provider, "gatehouse-misaddressed")
    client.audience = [bystander]
    provider.backend.save(client)
    return "gatehouse-misaddressed"


@pytest.fixture(scope="module")
def social_settings(issuer: str, other_audience: str) -> dict[str, Any]:
    return {
        "social_providers": {
            "iam": provider_settings(issuer),
            "misaddressed": provider_settings(issuer, client_id=other_audience),
        },
        "social_redirect_uris": [REDIRECT_URI],
    }


async def refused_check(email: str) -> str:
    """The check the audit trail says refused the last failed social sign-in."""
    event = await AuditEvent.find_one(
        {"event": "user.login_failed", "details.method": "social"},
        sort=[("_id", -1)],  # the clock is frozen: the newest by id
    )
    assert event is not None
    assert event.details["reason"] == "invalid_id_token"
    assert await User.find_one({"email": email}) is None
    return str(event.details["detail"])


async def test_a_nonce_other_than_the_one_sent_is_refused(
    client: httpx.AsyncClient, provider: Any
) -> None:
    person = provider_user(provider, unique_email("nonce"))
    begun = await begin(client)
    # The provider signs whatever nonce the authorization request carried: one that is
    # not this sign-in's (an injected or replayed response) must not sign in.
    tampered = with_query(begun["authorizationUrl"], nonce="n" * 43)
    callback = authorize(provider, tampered, person)
    failed = await complete(client, code=callback["code"], state=callback["state"])
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "INVALID_ID_TOKEN"
    assert await refused_check(person.emails[0]) == "nonce"


async def test_a_token_for_another_audience_is_refused(
    client: httpx.AsyncClient, provider: Any
) -> None:
    person = provider_user(provider, unique_email("aud"))
    failed = await social_sign_in(client, provider, person, "misaddressed")
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "INVALID_ID_TOKEN"
    assert await refused_check(person.emails[0]) == "aud"


async def test_an_expired_id_token_is_refused(
    client: httpx.AsyncClient, provider: Any, clock: FrozenClock
) -> None:
    person = provider_user(provider, unique_email("expired"))
    # The provider stamps the real time and an hour's lifetime; by the injected clock
    # the sign-in (begun now, so its state is fresh) receives it two hours later.
    late = timedelta(hours=2)
    clock.advance(late)
    try:
        failed = await social_sign_in(client, provider, person)
    finally:
        clock.advance(-late)
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "INVALID_ID_TOKEN"
    assert await refused_check(person.emails[0]) == "exp"
    # The same person a moment later, by a clock inside the token's lifetime, signs in.
    assert (await social_sign_in(client, provider, person))["__typename"] == "AuthPayload"


@pytest.fixture
def rotated_keys(provider: Any) -> Iterator[str]:
    """The provider signs with a new key (a new ``kid``) and no longer publishes the old
    one; the session's provider gets its key back afterwards."""
    config = provider.app.config["CANAILLE_OIDC"]
    active, inactive = config["ACTIVE_JWKS"], config.get("INACTIVE_JWKS")
    key = JWKRegistry.generate_key("RSA", 2048)
    key.ensure_kid()
    config["ACTIVE_JWKS"] = [key.as_dict(private=True)]
    config["INACTIVE_JWKS"] = None
    try:
        yield str(key.kid)
    finally:
        config["ACTIVE_JWKS"], config["INACTIVE_JWKS"] = active, inactive


async def test_a_key_rotated_at_the_provider_is_fetched(
    client: httpx.AsyncClient, provider: Any, request: pytest.FixtureRequest
) -> None:
    person = provider_user(provider, unique_email("rotation"))
    # Signed in once: the provider's key set is cached, fresh for the metadata TTL (an
    # hour) by the frozen clock.
    first = await social_sign_in(client, provider, person)
    assert first["__typename"] == "AuthPayload", first
    new_kid = request.getfixturevalue("rotated_keys")
    async with httpx.AsyncClient(timeout=10) as http:
        discovery = (await http.get(f"{provider.url}.well-known/openid-configuration")).json()
        published = (await http.get(discovery["jwks_uri"])).json()
    assert [k["kid"] for k in published["keys"]] == [new_kid]
    # The next ID token names a key id the cached set lacks: the set is fetched again
    # and the token verifies (without the refetch it would fail its signature).
    again = await social_sign_in(client, provider, person)
    assert again["__typename"] == "AuthPayload", again
    assert again["user"]["id"] == first["user"]["id"]
