"""The pure rules of impersonation: rank, which mutations run, the root fields of an
operation (through fragments), and the ``act`` claim as issued and as verified."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from graphql import OperationDefinitionNode, get_operation_ast, parse

from domain.core.clock import FrozenClock
from domain.core.roles import Role, may_act_on, may_impersonate
from domain.identity.permissions import Permission, has_permission
from domain.impersonation.policy import ENDING, NEVER, refused_fields
from domain.tokens.access import ACCESS_TYP, AccessTokenService, InvalidAccessToken
from domain.tokens.delegation import Delegation
from schema.impersonation.gate import root_fields
from tests.tokens.support import START, TTL, make_service, unverified_payload


def test_only_a_strictly_higher_rank_impersonates() -> None:
    for actor in Role:
        for target in Role:
            assert may_impersonate(actor, target) == (target.rank < actor.rank)
    # Unlike the admin actions, super-admins do not impersonate each other.
    assert may_act_on(Role.SUPER_ADMIN, Role.SUPER_ADMIN)
    assert not may_impersonate(Role.SUPER_ADMIN, Role.SUPER_ADMIN)


def test_the_permission_is_the_super_admins_alone() -> None:
    holders = {r for r in Role if has_permission(r, Permission.USERS_IMPERSONATE)}
    assert holders == {Role.SUPER_ADMIN}


def test_read_only_refuses_all_but_ending() -> None:
    fields = ["me", "updateProfile", "logout", "endImpersonation"]
    refused = refused_fields(fields, read_only=True, lasting_control=frozenset())
    assert refused == ["me", "updateProfile"]
    assert refused_fields(list(ENDING), read_only=True, lasting_control=frozenset()) == []


def test_read_write_still_refuses_lasting_control() -> None:
    lasting = frozenset({"createOAuthClient"})
    fields = ["updateProfile", "createOAuthClient", "changePassword", "logoutAll", "logout"]
    refused = refused_fields(fields, read_only=False, lasting_control=lasting)
    assert refused == ["createOAuthClient", "changePassword", "logoutAll"]
    assert {"impersonateUser", "reauthenticate", "createApiKey"} <= NEVER


def _operation(text: str) -> tuple[Any, OperationDefinitionNode]:
    document = parse(text)
    operation = get_operation_ast(document, None)
    assert operation is not None
    return document, operation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mutation { logout { sessionsEnded } }", ["logout"]),
        (
            "mutation { a: updateProfile { __typename } b: logout { x } }",
            ["updateProfile", "logout"],
        ),
        ("mutation { ... on Mutation { changePassword { x } } __typename }", ["changePassword"]),
        (
            "mutation { ...A } fragment A on Mutation { ...B logout { x } } "
            "fragment B on Mutation { ...A createApiKey { x } }",
            ["createApiKey", "logout"],
        ),
        ("mutation { updateProfile @skip(if: true) { x } }", ["updateProfile"]),
    ],
)
def test_root_fields_through_fragments_aliases_and_directives(
    text: str, expected: list[str]
) -> None:
    document, operation = _operation(text)
    assert root_fields(document, operation) == expected


def test_root_fields_are_linear_in_a_fan_out_of_fragments() -> None:
    # Each fragment spreads the next one twice: expanded it would be 2**40 fields.
    depth = 40
    fragments = " ".join(
        f"fragment F{i} on Mutation {{ ...F{i + 1} ...F{i + 1} }}" for i in range(depth)
    )
    text = f"mutation {{ ...F0 }} {fragments} fragment F{depth} on Mutation {{ logout {{ x }} }}"
    document, operation = _operation(text)
    assert root_fields(document, operation) == ["logout"]


@pytest.fixture
def service(tmp_path: Path) -> AccessTokenService:
    return make_service(tmp_path, FrozenClock(START))


def test_the_act_claim_is_issued_and_read_back(service: AccessTokenService) -> None:
    act = Delegation("admin-id", "admin-session", read_only=True)
    token, claims = service.issue(
        "user-id", "imp-session", "student", act=act, expires_at=START + timedelta(hours=5)
    )
    payload = unverified_payload(token)
    assert payload["act"] == {"sub": "admin-id", "sid": "admin-session"}
    assert payload["impersonation"] == {"read_only": True}
    assert claims.exp == START + timedelta(seconds=TTL)  # never later than the usual lifetime
    assert service.verify(token).act == act
    plain, _ = service.issue("user-id", "session", "student")
    assert "act" not in unverified_payload(plain)
    assert service.verify(plain).act is None


def _signed(service: AccessTokenService, payload: dict[str, Any]) -> str:
    key = service.keys.active
    return jwt.encode(
        payload,
        key.private_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": ACCESS_TYP},
    )


@pytest.mark.parametrize(
    "change",
    [
        {"act": {"sub": "admin-id", "sid": "s"}},  # without its mode
        {"impersonation": {"read_only": True}},  # without its actor
        {
            "act": {"sub": "a", "sid": "s", "act": {"sub": "b"}},
            "impersonation": {"read_only": True},
        },
        {"act": {"sub": "a", "sid": "s"}, "impersonation": {"read_only": "no"}},
        {"act": {"sub": "", "sid": "s"}, "impersonation": {"read_only": True}},
        {"act": "admin", "impersonation": {"read_only": True}},
    ],
)
def test_a_malformed_delegation_is_refused(
    service: AccessTokenService, change: dict[str, Any]
) -> None:
    token, _ = service.issue("user-id", "session", "student")
    payload = {**unverified_payload(token), **change}
    with pytest.raises(InvalidAccessToken):
        service.verify(_signed(service, payload))
