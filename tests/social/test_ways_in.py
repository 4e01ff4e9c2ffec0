"""The ways into an account that signs in with a provider, through GraphQL against a real
OpenID Connect provider (Canaille, pytest-iam), with emailed sign-in codes on (the
default):

- ``me { signInMethods }`` lists ``SOCIAL`` while an identity is linked, and so does each
  row of the administrators' users page (batched: one query per kind for the page);
- a trusted device (``deviceToken``) skips the second factor of a social sign-in, as it
  does for ``login``; another account's device does not;
- unlinking counts a code emailed to a verified address as a way in, and only then.
"""

from __future__ import annotations

from typing import Any

import httpx
import pyotp
from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.identity.documents import User
from domain.social.documents import SocialIdentity
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import claims, enable_totp, result
from tests.passwordless.support import COMPLETE_MFA, METHODS, emailed, request_code
from tests.passwordless.support import complete as complete_email_sign_in
from tests.social.support import UNLINK, link_another, provider_user, social_sign_in
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

USERS = "query { users(first: 50) { edges { node { email signInMethods } } } }"


async def methods_of(client: httpx.AsyncClient, token: str) -> list[str]:
    return list(result(await call(client, METHODS, token=token))["signInMethods"])


async def social_account(client: httpx.AsyncClient, provider: Any) -> tuple[Any, dict[str, Any]]:
    person = provider_user(provider, unique_email("waysin"))
    signed_in = await social_sign_in(client, provider, person)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    return person, signed_in


async def test_sign_in_methods_list_a_linked_provider(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    _, social = await social_account(client, provider)
    assert await methods_of(client, social["accessToken"]) == ["SOCIAL", "EMAIL_CODE"]

    email = unique_email("pwdfirst")
    await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    token = (await login(client, email))["accessToken"]
    assert await methods_of(client, token) == ["PASSWORD", "EMAIL_CODE"]
    linked = await link_another(client, provider, token, unique_email("linked"))
    assert linked["__typename"] == "SocialIdentityLinked", linked
    assert await methods_of(client, token) == ["PASSWORD", "SOCIAL", "EMAIL_CODE"]

    # A page of users: each row its own (the loader asks once per kind for the page).
    admin_email = unique_email("waysadmin")
    await staff_account(manager.state, admin_email, PASSWORD, Role.ADMIN)
    admin_token = (await login(client, admin_email))["accessToken"]
    page = result(await call(client, USERS, token=admin_token))
    rows = {edge["node"]["email"]: edge["node"]["signInMethods"] for edge in page["edges"]}
    assert rows[social["user"]["email"]] == ["SOCIAL", "EMAIL_CODE"]
    assert rows[email] == ["PASSWORD", "SOCIAL", "EMAIL_CODE"]
    assert rows[admin_email] == ["PASSWORD", "EMAIL_CODE"]

    unlinked = result(await call(client, UNLINK, {"id": linked["identity"]["id"]}, token))
    assert unlinked["__typename"] == "SocialIdentityUnlinked", unlinked
    assert await methods_of(client, token) == ["PASSWORD", "EMAIL_CODE"]


async def test_a_trusted_device_skips_the_second_factor_of_a_social_sign_in(
    client: httpx.AsyncClient, provider: Any, clock: FrozenClock
) -> None:
    person, first = await social_account(client, provider)
    user_id = first["user"]["id"]
    secret = await enable_totp(client, first["accessToken"], clock)
    challenged = await social_sign_in(client, provider, person)
    assert challenged["__typename"] == "MfaRequired", challenged
    code = pyotp.TOTP(secret).at(clock.now())
    variables = {"challenge": challenged["challengeToken"], "code": code, "remember": True}
    remembered = result(await call(client, COMPLETE_MFA, variables))
    assert remembered["__typename"] == "AuthPayload", remembered
    device_token = remembered["deviceToken"]
    assert device_token

    skipped = await social_sign_in(client, provider, person, device_token=device_token)
    assert skipped["__typename"] == "AuthPayload", skipped
    assert skipped["user"]["id"] == user_id
    # The provider, and the second factor by proxy of the trusted device (as for login).
    assert claims(skipped["accessToken"])["amr"] == ["fed", "mfa"]
    used = {"event": "user.trusted_device_used", "target_id": user_id}
    assert await AuditEvent.find(used).count() == 1

    # Another account's device, or a made-up token, is no second factor for this one.
    other, other_first = await social_account(client, provider)
    await enable_totp(client, other_first["accessToken"], clock)
    for token in (device_token, "td1.000000000000000000000000.nope"):
        asked = await social_sign_in(client, provider, other, device_token=token)
        assert asked["__typename"] == "MfaRequired", asked


async def test_a_verified_address_with_emailed_codes_is_a_way_in(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    # Social accounts have the provider-verified address: the emailed code is left.
    person, signed_in = await social_account(client, provider)
    token, email = signed_in["accessToken"], signed_in["user"]["email"]
    key = f"iam:{person.user_name}"
    unlinked = result(await call(client, UNLINK, {"id": key}, token))
    assert unlinked == {"__typename": "SocialIdentityUnlinked", "id": key}
    assert await SocialIdentity.get(key) is None
    assert await methods_of(client, token) == ["EMAIL_CODE"]
    # ... and it does sign in.
    await request_code(client, email)
    code, _ = await emailed(manager, email)
    by_code = await complete_email_sign_in(client, email=email, code=code)
    assert by_code["__typename"] == "AuthPayload", by_code
    assert by_code["user"]["id"] == signed_in["user"]["id"]


async def test_an_unverified_address_is_no_way_in(client: httpx.AsyncClient, provider: Any) -> None:
    person, signed_in = await social_account(client, provider)
    token, user_id = signed_in["accessToken"], signed_in["user"]["id"]
    # An address the account holds but has not confirmed (no flow of ours leaves a
    # provider's account so; the rule is for any account without another way in).
    await User.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(user_id)},
        {"$set": {"email_verified": False}},
    )
    key = f"iam:{person.user_name}"
    refused = result(await call(client, UNLINK, {"id": key}, token))
    assert refused["__typename"] == "LastSignInMethod", refused
    assert await SocialIdentity.get(key) is not None
