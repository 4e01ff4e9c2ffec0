"""``mySecurityEvents`` tells a user what an administrator did to their account, and that
an administrator did it, but not the administrator's IP address, user agent, id or
request; the full trail (``auditEvents``) keeps them. The user's own events keep their
own network details.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from domain.core.roles import Role
from tests.api.identity_ops import PASSWORD, call, login
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

ADMIN_IP = "198.51.100.201"
ADMIN_AGENT = "AdminConsole/9.9 (ops-laptop-17)"
USER_AGENT = "PhoneApp/1.0"
MY_EVENTS = """
query { mySecurityEvents(first: 100) {
  event actorId actorType actorRole ip userAgent requestId
} }"""
TRAIL = """
query($target: String) { auditEvents(filter: {targetId: $target}, first: 100) {
  edges { node { event actorId ip userAgent } }
} }"""
UPDATE = """
mutation($id: ID!) { updateUser(id: $id, role: INSTRUCTOR) { __typename } }"""
REVOKE = "mutation($id: ID!) { revokeUserSessions(id: $id) { __typename } }"


@pytest.fixture(scope="module")
async def admin_client(app: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    """The administrator, from their own address."""
    transport = httpx.ASGITransport(app=app.app, client=(ADMIN_IP, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"User-Agent": ADMIN_AGENT}
    ) as http:
        yield http


async def test_the_user_sees_an_administrator_not_their_network_details(
    app: LifespanManager, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    admin = await staff_account(app.state, "privacy.admin@example.com", PASSWORD, Role.ADMIN)
    user = await staff_account(app.state, "privacy.user@example.com", PASSWORD, Role.STUDENT)
    admin_token = (await login(admin_client, admin.email))["accessToken"]
    await login(client, user.email, user_agent=USER_AGENT)
    for document in (UPDATE, REVOKE):
        body = await call(admin_client, document, {"id": str(user.id)}, admin_token)
        assert body["data"], body

    token = (await login(client, user.email, user_agent=USER_AGENT))["accessToken"]
    response = await client.post(
        "/graphql", json={"query": MY_EVENTS}, headers={"Authorization": f"Bearer {token}"}
    )
    assert ADMIN_IP not in response.text
    assert ADMIN_AGENT not in response.text
    assert str(admin.id) not in response.text
    events = response.json()["data"]["mySecurityEvents"]
    by_admin = [e for e in events if e["actorRole"] is not None]
    assert {e["event"] for e in by_admin} >= {"admin.user_updated", "session.revoked_all"}
    for event in by_admin:
        assert event["actorRole"] == "administrator", event
        assert (event["actorId"], event["ip"], event["userAgent"], event["requestId"]) == (
            None,
            "",
            "",
            None,
        )
    own = [e for e in events if e["event"] == "user.login"]
    assert own
    for event in own:
        assert event["actorId"] == str(user.id)
        assert event["actorRole"] is None
        assert (event["ip"], event["userAgent"]) == ("203.0.113.7", USER_AGENT)
        assert event["requestId"]

    # The full trail, for those allowed to read it, still says who and from where.
    trail = await call(admin_client, TRAIL, {"target": str(user.id)}, admin_token)
    nodes = [e["node"] for e in trail["data"]["auditEvents"]["edges"]]
    updated = next(n for n in nodes if n["event"] == "admin.user_updated")
    assert (updated["actorId"], updated["ip"], updated["userAgent"]) == (
        str(admin.id),
        ADMIN_IP,
        ADMIN_AGENT,
    )
