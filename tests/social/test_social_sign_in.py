"""Social sign-in through the GraphQL API against a real OpenID Connect provider
(Canaille, run by pytest-iam on localhost): discovery, JWKS, the authorization endpoint
with its login and consent, the token endpoint, PKCE S256 and the nonce, all real.

A new identity creates an account; a returning one signs it in; a two-factor account
still answers its factor; an identity whose email has an account is never linked
silently; the state is single use; the callback's error is a typed failure.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.identity.documents import User
from domain.social.documents import SocialIdentity
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import COMPLETE_MFA, claims, enable_totp, result
from tests.social.support import (
    CONFIRM_LINK,
    MY_IDENTITIES,
    REDIRECT_URI,
    authorize,
    begin,
    complete,
    provider_user,
    social_sign_in,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager


async def test_the_authorization_url_carries_pkce_state_and_nonce(
    client: httpx.AsyncClient, issuer: str
) -> None:
    begun = await begin(client)
    url = begun["authorizationUrl"]
    assert url.startswith(issuer)
    for part in (
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "response_type=code",
        "client_id=gatehouse",
    ):
        assert part in url, part


async def test_a_new_identity_creates_an_account_and_signs_it_in(
    client: httpx.AsyncClient, provider: Any
) -> None:
    email = unique_email("new")
    person = provider_user(provider, email, given_name="Ada", family_name="Byron")
    signed_in = await social_sign_in(client, provider, person)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    assert signed_in["user"]["email"] == email
    assert signed_in["user"]["firstName"] == "Ada"
    assert signed_in["user"]["emailVerified"] is True
    user = await User.find_one({"email": email})
    assert user is not None
    assert user.password_hash == ""  # no password: the provider signs in
    me = result(await call(client, MY_IDENTITIES, token=signed_in["accessToken"]))
    (identity,) = me["identities"]
    assert identity == {
        "id": f"iam:{person.user_name}",
        "provider": "iam",
        "email": email,
        "emailVerified": True,
    }
    assert await AuditEvent.find_one({"event": "user.registered", "target_id": str(user.id)})


async def test_a_returning_identity_signs_in_to_the_same_account(
    client: httpx.AsyncClient, provider: Any
) -> None:
    person = provider_user(provider, unique_email("back"))
    first = await social_sign_in(client, provider, person)
    again = await social_sign_in(client, provider, person)
    assert again["__typename"] == "AuthPayload", again
    assert again["user"]["id"] == first["user"]["id"]
    assert await User.find({"email": person.emails[0]}).count() == 1


async def test_a_two_factor_account_still_answers_its_factor(
    client: httpx.AsyncClient, provider: Any, clock: FrozenClock
) -> None:
    person = provider_user(provider, unique_email("mfa"))
    first = await social_sign_in(client, provider, person)
    # RFC 8176: the provider is the first step ("fed"), one factor.
    assert claims(first["accessToken"])["amr"] == ["fed"]
    secret = await enable_totp(client, first["accessToken"], clock)
    second = await social_sign_in(client, provider, person)
    assert second["__typename"] == "MfaRequired", second
    assert "accessToken" not in second
    wrong = result(
        await call(client, COMPLETE_MFA, {"challenge": second["challengeToken"], "code": "000000"})
    )
    assert wrong["__typename"] == "InvalidMfaCode"
    code = pyotp.TOTP(secret).at(clock.now())
    done = result(
        await call(client, COMPLETE_MFA, {"challenge": second["challengeToken"], "code": code})
    )
    assert done["__typename"] == "AuthPayload", done
    assert claims(done["accessToken"])["amr"] == ["fed", "otp", "mfa"]


async def test_an_existing_email_is_never_linked_silently(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    email = unique_email("owner")
    owner = await staff_account(manager.state, email, PASSWORD, _user_role())
    person = provider_user(provider, email)
    answer = await social_sign_in(client, provider, person)
    assert answer["__typename"] == "AccountLinkRequired", answer
    assert answer["provider"] == "iam"
    assert await SocialIdentity.get(f"iam:{person.user_name}") is None
    # Another account cannot redeem the link token.
    other = await staff_account(manager.state, unique_email("other"), PASSWORD, _user_role())
    other_login = await login(client, other.email)
    refused = result(
        await call(client, CONFIRM_LINK, {"token": answer["linkToken"]}, other_login["accessToken"])
    )
    assert refused["__typename"] == "SocialLinkExpired"
    # The owner proves the account with the password, then links.
    owner_login = await login(client, email)
    linked = result(
        await call(client, CONFIRM_LINK, {"token": answer["linkToken"]}, owner_login["accessToken"])
    )
    assert linked["__typename"] == "SocialIdentityLinked", linked
    used = result(
        await call(client, CONFIRM_LINK, {"token": answer["linkToken"]}, owner_login["accessToken"])
    )
    assert used["__typename"] == "SocialLinkExpired"
    signed_in = await social_sign_in(client, provider, person)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    assert signed_in["user"]["id"] == str(owner.id)
    assert await AuditEvent.find_one({"event": "user.social_linked", "target_id": str(owner.id)})


async def test_a_state_is_single_use(client: httpx.AsyncClient, provider: Any) -> None:
    person = provider_user(provider, unique_email("replay"))
    begun = await begin(client)
    callback = authorize(provider, begun["authorizationUrl"], person)
    first = await complete(client, code=callback["code"], state=callback["state"])
    assert first["__typename"] == "AuthPayload", first
    replayed = await complete(client, code=callback["code"], state=callback["state"])
    assert replayed == {**replayed, "__typename": "SocialSignInFailed", "reason": "BAD_STATE"}


@pytest.mark.parametrize("state", ["x" * 43, "not-a-token"])
async def test_an_unknown_state_is_refused(client: httpx.AsyncClient, state: str) -> None:
    failed = await complete(client, code="anything", state=state)
    assert failed["reason"] == "BAD_STATE"


async def test_a_state_of_another_provider_is_refused(
    client: httpx.AsyncClient, provider: Any
) -> None:
    person = provider_user(provider, unique_email("cross"))
    begun = await begin(client, "iam")
    callback = authorize(provider, begun["authorizationUrl"], person)
    failed = await complete(client, "corp", code=callback["code"], state=callback["state"])
    assert failed["reason"] == "BAD_STATE"


async def test_denied_consent_is_a_typed_failure(client: httpx.AsyncClient) -> None:
    begun = await begin(client)
    state = begun["authorizationUrl"].split("state=")[1].split("&")[0]
    failed = await complete(client, error="access_denied", state=state)
    assert failed["reason"] == "CONSENT_DENIED"


async def test_a_redirect_uri_must_be_on_the_allow_list(client: httpx.AsyncClient) -> None:
    for uri in (REDIRECT_URI + "/../evil", REDIRECT_URI + "?next=x", "https://evil.example/cb"):
        failed = await begin(client, redirectUri=uri)
        assert failed["reason"] == "REDIRECT_NOT_ALLOWED", uri


async def test_an_unknown_provider_is_a_typed_failure(client: httpx.AsyncClient) -> None:
    assert (await begin(client, "nope"))["reason"] == "UNKNOWN_PROVIDER"


async def test_an_unverified_email_creates_no_account(
    client: httpx.AsyncClient, provider: Any
) -> None:
    person = provider_user(provider, unique_email("unverified"), verified=False)
    failed = await social_sign_in(client, provider, person)
    assert failed["reason"] == "EMAIL_NOT_VERIFIED"
    assert await User.find_one({"email": person.emails[0]}) is None


async def test_the_domain_allow_list(client: httpx.AsyncClient, provider: Any) -> None:
    outsider = provider_user(provider, unique_email("outsider"))
    failed = await social_sign_in(client, provider, outsider, "corp")
    assert failed["reason"] == "DOMAIN_NOT_ALLOWED"
    insider = provider_user(provider, "someone@corp.example")
    assert (await social_sign_in(client, provider, insider, "corp"))["__typename"] == "AuthPayload"


def _user_role() -> Any:
    from domain.core.roles import Role

    return Role.STUDENT


async def test_an_injected_code_is_refused(client: httpx.AsyncClient, provider: Any) -> None:
    # RFC 9700 §4.5: a code obtained for one sign-in, sent with another sign-in's state,
    # fails at the provider: the PKCE verifier of that state does not match the code.
    victim = provider_user(provider, unique_email("injected"))
    stolen = authorize(provider, (await begin(client))["authorizationUrl"], victim)
    attackers = await begin(client)
    state = parse_qs(urlsplit(attackers["authorizationUrl"]).query)["state"][0]
    failed = await complete(client, code=stolen["code"], state=state)
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "PROVIDER_ERROR"
    assert await User.find_one({"email": victim.emails[0]}) is None


async def test_there_is_no_implicit_flow(client: httpx.AsyncClient) -> None:
    # Only the code flow is asked for, and the callback mutation takes a code, never a
    # token from the front channel (RFC 9700 §2.1.2).
    query = parse_qs(urlsplit((await begin(client))["authorizationUrl"]).query)
    assert query["response_type"] == ["code"]
    assert "response_mode" not in query  # the query string (Apple alone: form_post)
    body = await call(
        client,
        '{ __type(name: "Mutation") { fields { name args { name } } } }',
    )
    fields = {f["name"]: f for f in body["data"]["__type"]["fields"]}
    arguments = {a["name"] for a in fields["completeSocialSignIn"]["args"]}
    # ``deviceToken`` is Gatehouse's own trusted-device token, not the provider's.
    assert arguments == {"provider", "code", "state", "error", "deviceToken"}


async def test_an_erased_accounts_address_makes_no_new_account(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    """During the grace after an erasure the address is reserved (a keyed-hash tombstone,
    domain/privacy/tombstones.py): the provider vouches for the person, so they are told."""
    email = unique_email("erased")
    until = manager.state.clock.now() + timedelta(days=14)
    await manager.state.services.privacy.tombstones.lay(email, until)
    failed = await social_sign_in(client, provider, provider_user(provider, email))
    assert failed["reason"] == "EMAIL_RESERVED", failed
    assert await User.find_one({"email": email}) is None
