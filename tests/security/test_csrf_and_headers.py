"""CSRF and header-injection attacks on the HTTP edge (ASVS 4.0.3 V4.2.2, V13.2.3, V13.1.5,
V7.3.1, V14.4), through the real app on FerretDB and Redis.

Gatehouse authenticates with a bearer token and sets no cookie, so a cross-site page has
no ambient credential to ride on; these tests also prove that no "simple" request a
browser could send cross-site (form posts, text/plain, a mutation over GET) runs an
operation, and that a query over GET (allowed: urql's default) is anonymous whatever
cookies ride along.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.roles import Role
from domain.identity.documents import User
from tests.api.identity_ops import PASSWORD, REGISTER, register, unique_email
from tests.security.support import raw_request
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager


def register_variables(email: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD, "first": "Csrf", "last": "Victim"}


def register_literal(email: str) -> str:
    return (
        f'mutation {{ register(email: "{email}", password: "{PASSWORD}", '
        'firstName: "Csrf", lastName: "Victim") { __typename } }'
    )


async def assert_nothing_happened(email: str, audit_before: int) -> None:
    assert await User.find(User.email == email).count() == 0
    assert await AuditEvent.count() == audit_before


async def test_mutation_over_get_is_refused_without_effect(client: httpx.AsyncClient) -> None:
    email = unique_email("csrf-get")
    before = await AuditEvent.count()
    response = await client.get("/graphql", params={"query": register_literal(email)})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "POST"
    await assert_nothing_happened(email, before)


async def test_cross_site_get_query_with_a_cookie_cannot_act(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    """Queries run over GET (urql's default), but only a bearer header authenticates: the
    cookie a cross-site page could make the browser send is ignored, so the forged GET is
    anonymous, reads nothing and records nothing."""
    email = unique_email("csrf-get-admin")
    await staff_account(app.state, email, PASSWORD, Role.ADMIN)
    login = await client.post(
        "/graphql",
        json={
            "query": "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) "
            "{ ... on AuthPayload { accessToken user { id } } } }",
            "variables": {"e": email, "p": PASSWORD},
        },
    )
    payload = login.json()["data"]["login"]
    token, user_id = payload["accessToken"], payload["user"]["id"]
    before = await AuditEvent.count()
    forged = await client.get(
        "/graphql",
        params={"query": f'{{ me {{ email }} user(id: "{user_id}") {{ __typename }} }}'},
        headers={
            "Origin": "https://evil.example.net",
            "Cookie": f"token={token}; authorization=Bearer {token}; access_token={token}",
        },
    )
    body = forged.json()
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"UNAUTHENTICATED", "FORBIDDEN"}
    assert email not in forged.text
    assert "access-control-allow-origin" not in forged.headers
    assert "set-cookie" not in forged.headers
    assert await AuditEvent.count() == before  # the admin's audited user view did not run
    # The same query with the bearer header works: the refusal above is the cookie's.
    genuine = await client.get(
        "/graphql",
        params={"query": "{ me { email } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert genuine.json()["data"]["me"]["email"] == email


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "text/plain",
        "text/plain;charset=UTF-8",
        "multipart/form-data; boundary=x",
    ],
)
async def test_simple_cross_site_posts_are_refused_without_effect(
    client: httpx.AsyncClient, content_type: str
) -> None:
    email = unique_email("csrf-post")
    before = await AuditEvent.count()
    payload = {"query": REGISTER, "variables": register_variables(email)}
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = urlencode({"query": REGISTER, "variables": json.dumps(payload["variables"])})
    elif content_type.startswith("multipart"):
        part = 'Content-Disposition: form-data; name="operations"'
        body = f"--x\r\n{part}\r\n\r\n{json.dumps(payload)}\r\n--x--\r\n"
    else:
        # The classic trick: a JSON body under a content type that needs no preflight.
        body = json.dumps(payload)
    response = await client.post(
        "/graphql",
        content=body.encode(),
        headers={"Content-Type": content_type, "Origin": "https://evil.example.net"},
    )
    assert response.status_code in (400, 415), response.text
    assert response.json()["errors"][0]["extensions"]["code"] in (
        "UNSUPPORTED_MEDIA_TYPE",
        "BAD_REQUEST",
    )
    assert "access-control-allow-origin" not in response.headers
    await assert_nothing_happened(email, before)


async def test_no_response_sets_a_cookie(client: httpx.AsyncClient) -> None:
    """No ambient credential exists for a forged cross-site request to carry."""
    email = unique_email("csrf-cookie")
    accepted = await client.post(
        "/graphql", json={"query": REGISTER, "variables": register_variables(email)}
    )
    login = await client.post(
        "/graphql",
        json={"query": 'mutation { login(email: "x@example.com", password: "y") { __typename } }'},
    )
    graphiql = await client.get("/graphql", headers={"Accept": "text/html"})
    for response in (accepted, login, graphiql):
        assert "set-cookie" not in response.headers


BAD_REQUEST_IDS = [
    b"legit-id-123\r\nSet-Cookie: session=evil",
    b"legit-id-123\nX-Injected: 1",
    b"legit-id-123\rX-Injected: 1",
    b"legit-id-123%0d%0aX-Injected:%201",
    b"id-\xff\xfe\xc3\xa9-non-ascii",
    "caf\u00e9-r\u00e9quest-1234".encode(),
    b"a" * 129,
    b"a" * 10_000,
    b"",
]


@pytest.mark.parametrize("bad", BAD_REQUEST_IDS, ids=range(len(BAD_REQUEST_IDS)))
async def test_hostile_request_id_is_replaced_never_echoed(
    app: LifespanManager, bad: bytes
) -> None:
    before = await AuditEvent.count()
    body = json.dumps(
        {
            "query": 'mutation { login(email: "ghost@example.com", password: "no such") '
            "{ __typename } }"
        }
    ).encode()
    status, headers, content = await raw_request(
        app.app,
        "POST",
        "/graphql",
        [(b"content-type", b"application/json"), (b"x-request-id", bad)],
        body,
    )
    assert status == 200
    echoed = [value for name, value in headers if name.lower() == b"x-request-id"]
    assert len(echoed) == 1
    assert echoed[0] != bad
    assert uuid.UUID(echoed[0].decode("ascii"))
    names = {name.lower() for name, _ in headers}
    assert b"x-injected" not in names
    assert b"set-cookie" not in names
    assert all(b"\r" not in v and b"\n" not in v for _, v in headers)
    if bad:
        assert bad not in content
    # The failed login's audit event carries the clean id, not the attacker's.
    events = await AuditEvent.find({"event": "user.login_failed"}).sort("-occurred_at").to_list()
    assert await AuditEvent.count() == before + 1
    assert events[0].request_id == echoed[0].decode("ascii")


async def test_well_formed_request_id_reaches_the_audit_trail(client: httpx.AsyncClient) -> None:
    rid = "trace-" + uuid.uuid4().hex
    response = await client.post(
        "/graphql",
        json={
            "query": 'mutation { login(email: "ghost2@example.com", password: "x") { __typename } }'
        },
        headers={"X-Request-ID": rid},
    )
    assert response.headers["x-request-id"] == rid
    assert await AuditEvent.find({"request_id": rid, "event": "user.login_failed"}).count() == 1


async def test_header_injection_in_user_agent_is_stored_inert(app: LifespanManager) -> None:
    """A CRLF in User-Agent ends up as data in the session, never as a response header."""
    email = unique_email("ua")
    assert (await register_via(app, email))["__typename"] == "RegistrationAccepted"
    status, headers, _ = await raw_request(
        app.app,
        "POST",
        "/graphql",
        [
            (b"content-type", b"application/json"),
            (b"user-agent", b"Mozilla/5.0\r\nX-Injected: 1"),
        ],
        json.dumps({"query": "{ serverInfo { name } }"}).encode(),
    )
    assert status == 200
    assert b"x-injected" not in {name.lower() for name, _ in headers}


async def register_via(app: LifespanManager, email: str) -> dict[str, str]:
    transport = httpx.ASGITransport(app=app.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        result: dict[str, str] = await register(http, email)
        return result
