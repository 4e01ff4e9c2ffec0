"""Access control and privilege escalation (ASVS 4.0.3 V4.1.1, V4.1.2, V4.1.3, V4.2.1,
V7.2.2), through GraphQL on real FerretDB and Redis.

What guards each Query, Mutation and Subscription field is written down below in
``GUARDS``, a table a person reviews when it changes: the schema's own guards
(``tests/security/operations.py``) must match it exactly, so weakening a guard fails here
instead of weakening the test with it. Each guarded field is then called, with a real
victim's id, by every role below the lowest the table allows: each call is refused with
``FORBIDDEN`` and no data, leaves a ``security.access_denied`` audit event, and leaves the
victim untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from tests.api.identity_ops import ME, PASSWORD, REGISTER, UPDATE_PROFILE, call, error_code, login
from tests.security.operations import OPERATIONS, PUBLIC, Operation
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

UPDATE_USER = """
mutation($id: ID!, $role: Role, $active: Boolean) {
  updateUser(id: $id, role: $role, active: $active) {
    __typename ... on UserUpdated { user { role } } ... on UserError { code message }
  }
}"""
CREATE_KEY = """
mutation($scopes: [String!]!) {
  createApiKey(name: "escalation", scopes: $scopes) {
    __typename ... on ApiKeyCreated { key }
    ... on ValidationFailed { fieldErrors { field code } }
  }
}"""


ANYONE = "public"
SIGNED_IN = "signed-in"
# Reviewed by a person: each field's guard (a permission, or ANYONE, or SIGNED_IN) and
# the lowest role it lets through. Change a line only with the change to the guard.
GUARDS: dict[str, tuple[str, Role | None]] = {
    "query.serverInfo": (ANYONE, None),
    "query.me": (SIGNED_IN, Role.STUDENT),
    "query.mySessions": (SIGNED_IN, Role.STUDENT),
    "query.mySecurityEvents": (SIGNED_IN, Role.STUDENT),
    "query.myPasskeys": (SIGNED_IN, Role.STUDENT),
    "query.myTrustedDevices": (SIGNED_IN, Role.STUDENT),
    "query.userPasskeys": ("users:read", Role.INSTRUCTOR),
    "query.socialProviders": (ANYONE, None),
    "query.userIdentities": ("users:read", Role.INSTRUCTOR),
    "query.users": ("users:read", Role.INSTRUCTOR),
    "query.user": ("users:read", Role.INSTRUCTOR),
    "query.auditEvents": ("audit:read", Role.ADMIN),
    "query.apiKeys": ("apikeys:manage", Role.ADMIN),
    "query.oauthClients": ("oauthclients:manage", Role.ADMIN),
    "query.activeUsers": ("analytics:read", Role.ADMIN),
    "query.dailyAuthStats": ("analytics:read", Role.ADMIN),
    "query.retentionCohorts": ("analytics:read", Role.ADMIN),
    "query.topOperations": ("analytics:read", Role.ADMIN),
    "query.failedEmails": ("users:write", Role.ADMIN),
    "query.webhookEndpoints": ("webhooks:manage", Role.SUPER_ADMIN),
    "query.webhookDeliveries": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.register": (ANYONE, None),
    "mutation.verifyEmail": (ANYONE, None),
    "mutation.resendVerificationEmail": (ANYONE, None),
    "mutation.login": (ANYONE, None),
    "mutation.refreshToken": (ANYONE, None),
    "mutation.requestPasswordReset": (ANYONE, None),
    "mutation.resetPassword": (ANYONE, None),
    "mutation.completeMfaLogin": (ANYONE, None),
    "mutation.unlockAccount": (ANYONE, None),
    "mutation.confirmEmailChange": (ANYONE, None),
    "mutation.beginPasskeyLogin": (ANYONE, None),
    "mutation.finishPasskeyLogin": (ANYONE, None),
    "mutation.requestEmailSignIn": (ANYONE, None),
    "mutation.completeEmailSignIn": (ANYONE, None),
    "mutation.beginSocialSignIn": (ANYONE, None),
    "mutation.completeSocialSignIn": (ANYONE, None),
    "mutation.requestSocialLinkEmail": (ANYONE, None),
    "mutation.confirmSocialLinkEmail": (ANYONE, None),
    "mutation.cancelAccountDeletion": (ANYONE, None),
    "mutation.logout": (SIGNED_IN, Role.STUDENT),
    "mutation.logoutAll": (SIGNED_IN, Role.STUDENT),
    "mutation.revokeSession": (SIGNED_IN, Role.STUDENT),
    "mutation.changePassword": (SIGNED_IN, Role.STUDENT),
    "mutation.updateProfile": (SIGNED_IN, Role.STUDENT),
    "mutation.requestEmailChange": (SIGNED_IN, Role.STUDENT),
    "mutation.beginTotpEnrollment": (SIGNED_IN, Role.STUDENT),
    "mutation.confirmTotpEnrollment": (SIGNED_IN, Role.STUDENT),
    "mutation.regenerateBackupCodes": (SIGNED_IN, Role.STUDENT),
    "mutation.disableTotp": (SIGNED_IN, Role.STUDENT),
    "mutation.reauthenticate": (SIGNED_IN, Role.STUDENT),
    "mutation.beginPasskeyRegistration": (SIGNED_IN, Role.STUDENT),
    "mutation.finishPasskeyRegistration": (SIGNED_IN, Role.STUDENT),
    "mutation.renamePasskey": (SIGNED_IN, Role.STUDENT),
    "mutation.removePasskey": (SIGNED_IN, Role.STUDENT),
    "mutation.beginPasskeyReauthentication": (SIGNED_IN, Role.STUDENT),
    "mutation.revokeTrustedDevice": (SIGNED_IN, Role.STUDENT),
    "mutation.beginSocialLink": (SIGNED_IN, Role.STUDENT),
    "mutation.linkSocialIdentity": (SIGNED_IN, Role.STUDENT),
    "mutation.confirmSocialLink": (SIGNED_IN, Role.STUDENT),
    "mutation.unlinkSocialIdentity": (SIGNED_IN, Role.STUDENT),
    "mutation.requestDataExport": (SIGNED_IN, Role.STUDENT),
    "mutation.deleteMyAccount": (SIGNED_IN, Role.STUDENT),
    "mutation.createApiKey": ("apikeys:manage", Role.ADMIN),
    "mutation.revokeApiKey": ("apikeys:manage", Role.ADMIN),
    "mutation.createOAuthClient": ("oauthclients:manage", Role.ADMIN),
    "mutation.updateOAuthClient": ("oauthclients:manage", Role.ADMIN),
    "mutation.rotateOAuthClientSecret": ("oauthclients:manage", Role.ADMIN),
    "mutation.disableOAuthClient": ("oauthclients:manage", Role.ADMIN),
    "mutation.updateUser": ("users:write", Role.ADMIN),
    "mutation.deleteUser": ("users:write", Role.ADMIN),
    "mutation.restoreUser": ("users:write", Role.ADMIN),
    "mutation.unlockUser": ("users:write", Role.ADMIN),
    "mutation.resetUserTwoFactor": ("users:write", Role.ADMIN),
    "mutation.revokeUserSessions": ("users:write", Role.ADMIN),
    "mutation.removeUserPasskey": ("users:write", Role.ADMIN),
    "mutation.removeUserIdentity": ("users:write", Role.ADMIN),
    "mutation.exportUserData": ("users:write", Role.ADMIN),
    "mutation.resendEmail": ("users:write", Role.ADMIN),
    "mutation.createWebhookEndpoint": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.updateWebhookEndpoint": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.deleteWebhookEndpoint": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.rotateWebhookSecret": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.redeliverWebhook": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.testWebhook": ("webhooks:manage", Role.SUPER_ADMIN),
    "mutation.impersonateUser": ("users:impersonate", Role.SUPER_ADMIN),
    "mutation.endImpersonation": (SIGNED_IN, Role.STUDENT),
    "query.oauthChallenge": (ANYONE, None),
    "mutation.acceptLoginChallenge": (SIGNED_IN, Role.STUDENT),
    "mutation.acceptConsentChallenge": (SIGNED_IN, Role.STUDENT),
    "mutation.rejectChallenge": (ANYONE, None),
    "query.myAuthorizedApps": (SIGNED_IN, Role.STUDENT),
    "mutation.revokeAuthorizedApp": (SIGNED_IN, Role.STUDENT),
    "subscription.auditEvents": ("audit:read", Role.ADMIN),
    "subscription.sessionRevoked": (SIGNED_IN, Role.STUDENT),
}
BY_KEY = {f"{op.kind}.{op.name}": op for op in OPERATIONS}
# Called over HTTP POST here; subscriptions need a WebSocket (tests/runtime).
PERMISSION_FIELDS = [
    key
    for key, (guard, _) in GUARDS.items()
    if guard not in (ANYONE, SIGNED_IN) and not key.startswith("subscription.")
]


def schema_guard(op: Operation) -> str:
    if op.permission is not None:
        return op.permission.value
    return SIGNED_IN if op.authenticated else ANYONE


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # The cost budget has its own tests (tests/api/test_protection.py); here a hundred
    # aliases of a guarded field must reach the guard.
    return make_settings(graphql_max_cost=1_000_000)


@pytest.fixture(scope="module")
async def people(app: LifespanManager, client: httpx.AsyncClient) -> dict[str, Any]:
    """One account per role with a live session, and a victim student."""
    found: dict[str, Any] = {}
    for role in (Role.STUDENT, Role.INSTRUCTOR, Role.ADMIN, Role.SUPER_ADMIN):
        email = f"ac.{role.value}@example.com"
        user = await staff_account(app.state, email, PASSWORD, role)
        found[role.value] = {
            "id": str(user.id),
            "token": (await login(client, email))["accessToken"],
        }
    victim = await staff_account(app.state, "ac.victim@example.com", PASSWORD, Role.STUDENT)
    found["victim"] = {
        "id": str(victim.id),
        "token": (await login(client, victim.email))["accessToken"],
    }
    return found


async def victim_state(people: dict[str, Any], client: httpx.AsyncClient) -> dict[str, Any]:
    user = await User.get(people["victim"]["id"])
    assert user is not None
    me = await call(client, ME, token=people["victim"]["token"])
    return {
        "doc": user.model_dump(exclude={"updated_at", "last_login_at"}),
        "signed_in": me["data"] is not None,
    }


def test_every_operation_is_classified() -> None:
    """A new field must be public on purpose, or guarded; nothing is open by accident."""
    for op in OPERATIONS:
        assert op.authenticated or op.name in PUBLIC, f"{op.kind} {op.name} has no guard"
        assert not (op.authenticated and op.name in PUBLIC), op.name
    assert len(PERMISSION_FIELDS) >= 25


def test_every_guard_matches_the_reviewed_table() -> None:
    """Every field is in GUARDS, and the schema guards it exactly as the table says: a
    new field needs a line there, and a weakened (or strengthened) guard fails here."""
    missing = sorted(set(BY_KEY) - set(GUARDS))
    assert not missing, f"fields without a line in GUARDS: {missing}"
    gone = sorted(set(GUARDS) - set(BY_KEY))
    assert not gone, f"lines in GUARDS for fields the schema no longer has: {gone}"
    differ = {
        key: (schema_guard(op), GUARDS[key][0])
        for key, op in BY_KEY.items()
        if schema_guard(op) != GUARDS[key][0]
    }
    assert not differ, f"(schema guard, reviewed guard) differ: {differ}"


@pytest.mark.parametrize("key", PERMISSION_FIELDS)
async def test_lower_roles_are_refused_every_guarded_field(
    client: httpx.AsyncClient, people: dict[str, Any], key: str
) -> None:
    needs, lowest = GUARDS[key]
    assert lowest is not None
    op = BY_KEY.get(key)
    assert op is not None, f"{key} is not in the schema"
    before = await victim_state(people, client)
    document = op.document(people["victim"]["id"])
    anonymous = await call(client, document)
    assert anonymous["data"] is None
    assert error_code(anonymous) == "UNAUTHENTICATED"
    # The roles come from the table too, so a role given a permission it should not
    # hold (domain/identity/permissions.py) is caught as well as a weakened guard.
    refused_roles = [r for r in Role if r.rank < lowest.rank]
    assert Role.STUDENT in refused_roles
    for role in refused_roles:
        actor = people[role.value]
        body = await call(client, document, token=actor["token"])
        assert body["data"] is None, (role, body)
        assert error_code(body) == "FORBIDDEN", (role, body)
        (event,) = await audit_events(
            "security.access_denied", actor_id=actor["id"], **{"details.field": op.name}
        )
        assert event.details["needs"] == needs
        assert event.result.value == "failure"
        await AuditEvent.find({"_id": event.id}).delete()  # the next role starts clean
    assert await victim_state(people, client) == before


async def test_hundred_aliases_of_a_denied_field_write_one_event(
    client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    fields = " ".join(f"a{i}: users {{ totalCount }}" for i in range(100))
    body = await call(client, f"{{ {fields} }}", token=people["student"]["token"])
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    events = await audit_events(
        "security.access_denied", actor_id=people["student"]["id"], **{"details.field": "users"}
    )
    assert len(events) == 1


async def test_role_cannot_be_set_through_register_or_profile_inputs(
    client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    """There is no role argument to abuse: GraphQL refuses it before anything runs, and
    extra variables are ignored."""
    with_role = REGISTER.replace("lastName: $last)", "lastName: $last, role: SUPER_ADMIN)")
    variables = {"email": "ac.new@example.com", "password": PASSWORD, "first": "A", "last": "B"}
    refused = await call(client, with_role, variables)
    assert error_code(refused) == "GRAPHQL_VALIDATION_FAILED"
    assert await User.find(User.email == "ac.new@example.com").count() == 0
    smuggled = await call(client, REGISTER, {**variables, "role": "SUPER_ADMIN", "isAdmin": True})
    assert smuggled["data"]["register"]["__typename"] == "RegistrationAccepted"
    created = await User.find_one(User.email == "ac.new@example.com")
    assert created is not None
    assert created.role is Role.STUDENT

    token = people["student"]["token"]
    for document in (
        UPDATE_PROFILE.replace("lastName: $last)", "lastName: $last, role: ADMIN)"),
        'mutation { updateProfile(firstName: "x", input: {role: ADMIN}) { __typename } }',
    ):
        body = await call(client, document, {"first": "Eve"}, token)
        assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"
    body = await call(client, UPDATE_PROFILE, {"first": "Eve", "role": "admin"}, token)
    assert body["data"]["updateProfile"]["__typename"] == "ProfileUpdated"
    me = await call(client, ME, token=token)
    assert me["data"]["me"]["role"] == "STUDENT"


async def test_admin_cannot_raise_anyone_above_their_own_role(
    client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    admin = people["admin"]
    cases = [
        ({"id": admin["id"], "role": "SUPER_ADMIN"}, "self_action"),  # themselves
        ({"id": people["victim"]["id"], "role": "SUPER_ADMIN"}, "role_above_actor"),
        ({"id": people["victim"]["id"], "role": "ADMIN"}, "role_same_rank"),
        ({"id": people["super_admin"]["id"], "role": "STUDENT"}, "target_outranks_actor"),
        ({"id": people["super_admin"]["id"], "active": False}, "target_outranks_actor"),
    ]
    for variables, rule in cases:
        body = await call(client, UPDATE_USER, variables, admin["token"])
        result = body["data"]["updateUser"]
        assert result["__typename"] == "Forbidden", (variables, result)
        assert result["code"] == "FORBIDDEN"
        events = await audit_events(
            "admin.action_denied",
            actor_id=admin["id"],
            target_id=variables["id"],
            **{"details.rule": rule},
        )
        assert events, (variables, rule)
    for person, role in (("admin", Role.ADMIN), ("super_admin", Role.SUPER_ADMIN)):
        user = await User.get(people[person]["id"])
        assert user is not None
        assert user.role is role


async def test_api_key_cannot_carry_a_scope_its_creator_lacks(
    client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    """An admin (no webhooks:manage) cannot mint a key with it, and a key grants no
    GraphQL permission by itself either."""
    admin = people["admin"]["token"]
    beyond = await call(client, CREATE_KEY, {"scopes": ["webhooks:manage"]}, admin)
    result = beyond["data"]["createApiKey"]
    assert result["__typename"] == "ValidationFailed"
    assert result["fieldErrors"] == [{"field": "scopes", "code": "FORBIDDEN"}]
    made_up = await call(client, CREATE_KEY, {"scopes": ["root:all"]}, admin)
    assert made_up["data"]["createApiKey"]["__typename"] == "ValidationFailed"
    held = await call(client, CREATE_KEY, {"scopes": ["users:read"]}, admin)
    key = held["data"]["createApiKey"]["key"]
    response = await client.post(
        "/graphql", json={"query": "{ users { totalCount } }"}, headers={"X-API-Key": key}
    )
    assert error_code(response.json()) == "UNAUTHENTICATED"


async def test_role_change_ends_the_old_token_with_the_old_role(
    client: httpx.AsyncClient, app: LifespanManager, people: dict[str, Any]
) -> None:
    """A demoted admin's existing token stops working at once (the role lives in it)."""
    user = await staff_account(app.state, "ac.demoted@example.com", PASSWORD, Role.ADMIN)
    token = (await login(client, user.email))["accessToken"]
    assert (await call(client, "{ users { totalCount } }", token=token))["data"]
    demoted = await call(
        client, UPDATE_USER, {"id": str(user.id), "role": "STUDENT"}, people["super_admin"]["token"]
    )
    assert demoted["data"]["updateUser"]["user"]["role"] == "STUDENT"
    assert error_code(await call(client, "{ users { totalCount } }", token=token)) == (
        "UNAUTHENTICATED"
    )
