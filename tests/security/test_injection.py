"""NoSQL-operator injection, oversized and deeply nested input (ASVS 4.0.3 V5.1.3, V5.1.4,
V5.3.4, V13.2.2, V13.4.1), through GraphQL on real FerretDB and Redis.

Operators sent as JSON objects where the schema expects a string are refused by GraphQL
before any resolver runs, for every String and ID argument of every query and mutation
(found in the schema). Operators sent as strings are data: stored and matched literally.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.roles import Role
from domain.identity.documents import User
from domain.sessions.documents import Session
from tests.api.identity_ops import LOGIN, PASSWORD, REGISTER, call, error_code, login
from tests.security.operations import OPERATIONS, Operation
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

OPERATOR_OBJECTS: list[Any] = [
    {"$ne": None},
    {"$gt": ""},
    {"$where": "sleep(5000) || true"},
    {"$regex": ".*"},
    {"profile.role": "super_admin"},
    ["$ne", None],
]
STRING_ARGUMENTS = [
    (op, arg) for op in OPERATIONS if op.kind != "subscription" for arg in op.string_arguments()
]
OPERATOR_STRINGS = [
    '{"$ne": null}',
    '{"$gt": ""}',
    '{"$where": "sleep(5000)"}',
    '{"$regex": ".*"}',
    ".*",
    "^",
    "(",
    "[a-",
    "\\",
    "a|b",
    "$where",
    "profile.role",
    "$set",
    "\x00",
]
USERS = """
query($filter: UserFilterInput) { users(filter: $filter, first: 50) {
  totalCount edges { node { email } } } }"""
AUDIT = """
query($filter: AuditEventFilter) { auditEvents(filter: $filter, first: 50) {
  edges { node { event } } } }"""


@pytest.fixture(scope="module")
async def admin(app: LifespanManager, client: httpx.AsyncClient) -> str:
    await staff_account(app.state, "inj.admin@example.com", PASSWORD, Role.SUPER_ADMIN)
    await staff_account(app.state, "inj.victim@example.com", PASSWORD, Role.STUDENT)
    return str((await login(client, "inj.admin@example.com"))["accessToken"])


async def counts() -> tuple[int, int, int]:
    return (await User.count(), await Session.count(), await AuditEvent.count())


@pytest.mark.parametrize(
    ("op", "argument"),
    STRING_ARGUMENTS,
    ids=[f"{op.name}.{arg}" for op, arg in STRING_ARGUMENTS],
)
async def test_operator_object_where_a_string_is_expected_is_refused(
    client: httpx.AsyncClient, admin: str, op: Operation, argument: str
) -> None:
    document = op.document("0" * 24, variable=argument)
    before = await counts()
    for payload in OPERATOR_OBJECTS:
        response = await client.post(
            "/graphql",
            json={"query": document, "variables": {"v": payload}},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert response.status_code == 400, (document, payload, response.text)
        body = response.json()
        assert body.get("data") is None
        assert error_code(body) in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), body
        assert "Traceback" not in response.text
    assert await counts() == before


async def test_operator_object_inside_an_input_object_is_refused(
    client: httpx.AsyncClient, admin: str
) -> None:
    for document, name in ((USERS, "search"), (AUDIT, "event"), (AUDIT, "actorId")):
        for payload in OPERATOR_OBJECTS:
            body = await call(client, document, {"filter": {name: payload}}, admin)
            assert body.get("data") is None, (name, payload)
            assert error_code(body) in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")


async def test_operator_strings_do_not_sign_anyone_in(
    client: httpx.AsyncClient, admin: str
) -> None:
    before = await Session.count()
    for value in OPERATOR_STRINGS:
        as_email = await call(client, LOGIN, {"email": value, "password": value})
        assert as_email["data"]["login"]["__typename"] == "ValidationFailed", value
        as_password = await call(
            client, LOGIN, {"email": "inj.victim@example.com", "password": value}
        )
        assert as_password["data"]["login"]["__typename"] in (
            "InvalidCredentials",
            "ValidationFailed",
            "AccountLocked",  # these wrong passwords lock the victim: also a refusal
        ), value
    assert await Session.count() == before


async def test_operator_strings_are_stored_literally(client: httpx.AsyncClient, admin: str) -> None:
    first = '{"$set": {"role": "super_admin"}}'
    last = "profile.role.$where"
    body = await call(
        client,
        REGISTER,
        {"email": "inj.literal@example.com", "password": PASSWORD, "first": first, "last": last},
    )
    assert body["data"]["register"]["__typename"] == "RegistrationAccepted"
    stored = await User.find_one(User.email == "inj.literal@example.com")
    assert stored is not None
    assert (stored.first_name, stored.last_name, stored.role) == (first, last, Role.STUDENT)


async def test_search_prefix_with_regex_metacharacters_is_literal(
    app: LifespanManager, client: httpx.AsyncClient, admin: str
) -> None:
    literal = await staff_account(app.state, "a.b*c+d@example.com", PASSWORD, Role.STUDENT)
    found = await call(client, USERS, {"filter": {"search": "a.b*c+"}}, admin)
    assert [e["node"]["email"] for e in found["data"]["users"]["edges"]] == [literal.email]
    # As patterns these would match many accounts; as literal prefixes they match only
    # what starts with exactly these characters.
    everyone = await User.find_all().to_list()
    for value in OPERATOR_STRINGS:
        body = await call(client, USERS, {"filter": {"search": value}}, admin)
        assert "errors" not in body, (value, body)
        prefix = value.strip().lower()
        expected = [
            u
            for u in everyone
            if prefix
            and any(f.lower().startswith(prefix) for f in (u.email, u.first_name, u.last_name))
        ]
        assert body["data"]["users"]["totalCount"] == len(expected), value
        audit = await call(client, AUDIT, {"filter": {"event": value, "actorId": value}}, admin)
        assert "errors" not in audit or error_code(audit) == "VALIDATION_FAILED", (value, audit)
        if "errors" not in audit:
            assert audit["data"]["auditEvents"]["edges"] == [], value


async def test_object_ids_given_as_operator_strings_find_nothing(
    client: httpx.AsyncClient, admin: str
) -> None:
    for value in OPERATOR_STRINGS:
        revoke = await call(
            client,
            "mutation($id: String!) { revokeSession(id: $id) { __typename } }",
            {"id": value},
            admin,
        )
        assert revoke["data"]["revokeSession"]["__typename"] == "NotFound", value
        user = await call(
            client, "query($id: ID!) { user(id: $id) { __typename } }", {"id": value}, admin
        )
        assert user["data"]["user"]["__typename"] in ("NotFound", "ValidationFailed"), value


# --- oversized and deeply nested input ---


async def test_oversized_strings_are_refused_as_validation_without_work(
    client: httpx.AsyncClient,
) -> None:
    huge = "x" * 900_000
    before = await counts()
    for variables, field, expected in (
        ({"email": huge + "@example.com", "password": "x"}, "login", "ValidationFailed"),
        ({"email": "inj.victim@example.com", "password": huge}, "login", "InvalidCredentials"),
    ):
        body = await call(client, LOGIN, variables)
        assert body["data"][field]["__typename"] == expected
    registered = await call(
        client,
        REGISTER,
        {"email": "big@example.com", "password": huge[:200], "first": huge[:5000], "last": "x"},
    )
    result = registered["data"]["register"]
    assert result["__typename"] == "ValidationFailed"
    assert {e["field"] for e in result["fieldErrors"]} == {"password", "firstName"}
    users, sessions, _ = await counts()
    assert (users, sessions) == before[:2]


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    variables = {"email": "x" * 2_000_000, "password": "x"}
    response = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("depth", [50, 400, 2400])
async def test_deeply_nested_list_literal_is_refused(client: httpx.AsyncClient, depth: int) -> None:
    nested = "[" * depth + '"x"' + "]" * depth
    query = f'mutation {{ createApiKey(name: "n", scopes: {nested}) {{ __typename }} }}'
    response = await client.post("/graphql", json={"query": query})
    assert 400 <= response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("depth", [50, 900, 5000, 100_000])
async def test_deeply_nested_variables_are_refused(client: httpx.AsyncClient, depth: int) -> None:
    raw = '{"query": ' + json.dumps(LOGIN) + ', "variables": {"email": '
    raw += "[" * depth + "]" * depth + ', "password": "x"}}'
    response = await client.post(
        "/graphql", content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text


async def test_deeply_nested_selection_is_refused(client: httpx.AsyncClient) -> None:
    selection = "user { " * 60 + "id" + " }" * 60
    login = 'login(email: "a@example.com", password: "x")'
    query = f"mutation {{ {login} {{ ... on AuthPayload {{ {selection} }} }} }}"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 400
    assert error_code(response.json()) in ("QUERY_TOO_DEEP", "GRAPHQL_VALIDATION_FAILED")


async def test_oversized_current_password_is_plainly_wrong_without_a_warning(
    client: httpx.AsyncClient, admin: str
) -> None:
    from loguru import logger

    from tests.api.identity_ops import CHANGE_PASSWORD, NEW_PASSWORD

    lines: list[str] = []
    sink = logger.add(lines.append, level="WARNING")
    try:
        body = await call(
            client, CHANGE_PASSWORD, {"current": "y" * 100_000, "new": NEW_PASSWORD}, admin
        )
    finally:
        logger.remove(sink)
    assert body["data"]["changePassword"]["__typename"] == "InvalidCredentials"
    assert not [line for line in lines if "could not be verified" in line]
