"""Insecure direct object references (ASVS 4.0.3 V4.2.1, V4.1.3): one signed-in user
reaching another's sessions, events or profile, through GraphQL on real services.

Self-service fields take no user id at all (they act on the caller's principal); those
that name an object, ``revokeSession(id)``, ``renamePasskey(id)``, ``removePasskey(id)`` and
``revokeTrustedDevice(id)``, only find the caller's own sessions, passkeys and devices.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from domain.core.actor import Actor
from domain.core.roles import Role
from domain.identity.documents import User
from domain.mfa.documents import TrustedDevice
from domain.passkeys.documents import Passkey
from domain.sessions.documents import Session
from domain.social.documents import SocialIdentity
from tests.api.identity_ops import (
    LOGOUT_ALL,
    ME,
    PASSWORD,
    REVOKE_SESSION,
    SESSIONS,
    UPDATE_PROFILE,
    call,
    login,
)
from tests.passkeys.support import REMOVE, RENAME, register_passkey
from tests.passwordless.support import REVOKE_TRUSTED
from tests.security.operations import OPERATIONS, PUBLIC, _graphql_field
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.webauthn_authenticator import SoftwareAuthenticator

EVENTS = "query { mySecurityEvents(first: 100) { event actorId targetId details } }"
# Self-service fields that name an object by id; each is attacked below.
ADDRESSING_AN_OBJECT = {
    "revokeSession",
    "renamePasskey",
    "removePasskey",
    "revokeTrustedDevice",
    "unlinkSocialIdentity",
    # The caller's own consent for that client; another person's call is NotFound and
    # changes nothing: tests/oauth/test_authorized_apps.py.
    "revokeAuthorizedApp",
}
UNLINK = """
mutation Unlink($id: ID!) {
  unlinkSocialIdentity(id: $id) { __typename ... on UserError { code } }
}"""


@pytest.fixture(scope="module")
async def alice_and_bob(app: LifespanManager, client: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("alice", "bob"):
        user = await staff_account(app.state, f"{name}@example.com", PASSWORD, Role.STUDENT)
        sessions = [await login(client, user.email) for _ in range(2)]
        found[name] = {"id": str(user.id), "email": user.email, "sessions": sessions}
    return found


def token(person: dict[str, Any], index: int = 0) -> str:
    return str(person["sessions"][index]["accessToken"])


def test_self_service_fields_take_no_object_id_but_the_one_attacked_here() -> None:
    for op in OPERATIONS:
        if op.permission is not None or op.name in PUBLIC or not op.authenticated:
            continue
        args = _graphql_field(op.kind, op.name).args
        if op.name not in ADDRESSING_AN_OBJECT:
            # An argument that names an object by id (``id``, ``sessionId``, ``userIds``),
            # not any name with the letters in it (``provider``).
            naming = [n for n in args if n == "id" or n.endswith(("Id", "Ids", "ID"))]
            assert not naming, op.name


async def test_sessions_list_only_the_callers_own(
    client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    listed = (await call(client, SESSIONS, token=token(bob)))["data"]["mySessions"]
    assert {s["id"] for s in listed} == {s["sessionId"] for s in bob["sessions"]}
    assert not {s["id"] for s in listed} & {s["sessionId"] for s in alice["sessions"]}
    me = (await call(client, ME, token=token(bob)))["data"]["me"]
    assert me["id"] == bob["id"]


async def test_revoking_someone_elses_session_by_id_is_not_found(
    client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    for session in alice["sessions"]:
        result = await call(client, REVOKE_SESSION, {"id": session["sessionId"]}, token(bob))
        # The same answer as an id that does not exist: no hint that it is someone's.
        assert result["data"]["revokeSession"]["__typename"] == "NotFound"
    for index in range(2):
        assert (await call(client, ME, token=token(alice, index)))["data"]["me"]["id"] == alice[
            "id"
        ]
    assert await audit_events("session.revoked", target_id=alice["id"]) == []
    for session in alice["sessions"]:
        stored = await Session.get(session["sessionId"])
        assert stored is not None
        assert stored.revoked_at is None


async def test_security_events_show_only_the_callers_own(
    client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    # Alice does things that leave events about her.
    await call(client, UPDATE_PROFILE, {"first": "Alice"}, token(alice))
    await login(client, alice["email"], "not her password at all")
    events = (await call(client, EVENTS, token=token(bob)))["data"]["mySecurityEvents"]
    assert events, "Bob's own logins are listed"
    for event in events:
        assert bob["id"] in (event["actorId"], event["targetId"]), event
        assert alice["id"] not in (event["actorId"], event["targetId"]), event
        assert alice["email"] not in str(event["details"])


async def test_logout_all_and_profile_update_touch_only_the_caller(
    client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    before = await User.get(alice["id"])
    assert before is not None
    await call(client, UPDATE_PROFILE, {"first": "Mallory", "last": "Bob"}, token(bob))
    ended = await call(client, LOGOUT_ALL, {"keep": False}, token(bob))
    assert ended["data"]["logoutAll"]["sessionsEnded"] == 2
    after = await User.get(alice["id"])
    assert after is not None
    assert (after.first_name, after.last_name) == (before.first_name, before.last_name)
    assert (await call(client, ME, token=token(alice, 1)))["data"]["me"]["id"] == alice["id"]


async def test_renaming_or_removing_someone_elses_passkey_is_not_found(
    client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    added = await register_passkey(client, token(alice), SoftwareAuthenticator(), name="Alice's")
    assert added["__typename"] == "PasskeyAdded", added
    passkey = added["passkey"]["id"]
    bob_token = (await login(client, bob["email"]))["accessToken"]  # a fresh session of his
    renamed = await call(client, RENAME, {"id": passkey, "name": "Mallory's"}, bob_token)
    assert renamed["data"]["renamePasskey"]["__typename"] == "NotFound"
    removed = await call(client, REMOVE, {"id": passkey}, bob_token)
    assert removed["data"]["removePasskey"]["__typename"] == "NotFound"
    stored = await Passkey.get(passkey)
    assert stored is not None
    assert (str(stored.user_id), stored.name) == (alice["id"], "Alice's")


async def test_revoking_someone_elses_trusted_device_is_not_found(
    app: LifespanManager, client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    devices = app.state.services.trusted_devices
    granted = await devices.grant(
        PydanticObjectId(alice["id"]), device="Firefox on Linux", actor=Actor.system()
    )
    assert granted is not None
    device_id = granted.split(".")[1]
    bob_token = (await login(client, bob["email"]))["accessToken"]
    revoked = await call(client, REVOKE_TRUSTED, {"id": device_id}, bob_token)
    assert revoked["data"]["revokeTrustedDevice"]["__typename"] == "NotFound"
    assert await TrustedDevice.get(PydanticObjectId(device_id)) is not None
    assert await devices.trusts(PydanticObjectId(alice["id"]), granted, Actor.system())


async def test_unlinking_someone_elses_social_identity_is_not_found(
    client: httpx.AsyncClient, alice_and_bob: dict[str, Any]
) -> None:
    alice, bob = alice_and_bob["alice"], alice_and_bob["bob"]
    identity = SocialIdentity(
        _id="example:alice-subject",
        user_id=PydanticObjectId(alice["id"]),
        provider="example",
        subject="alice-subject",
        created_at=datetime.now(UTC),
    )
    await identity.insert()
    bob_token = (await login(client, bob["email"]))["accessToken"]
    answer = await call(client, UNLINK, {"id": identity.id}, bob_token)
    assert answer["data"]["unlinkSocialIdentity"]["__typename"] == "NotFound", answer
    assert await SocialIdentity.get(identity.id) is not None
