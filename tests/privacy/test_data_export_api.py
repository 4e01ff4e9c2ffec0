"""Self-service data export through GraphQL and the REST download route, with a real
worker building the archive and a real SMTP server receiving the link."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity import repository as user_repository
from tests.api.identity_ops import PASSWORD, call, login, unique_email, verified_user
from tests.privacy.staff import ADMIN_AGENT, ADMIN_IP, support_visit
from tests.privacy.support import EXPORT_USER, REQUEST_EXPORT, answer, export_files
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

CLOCK_START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
READY = "data export is ready"
DOWNLOAD = "/api/privacy/export"


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


@pytest.fixture(scope="module")
async def manager(
    settings: Settings,
    app_with: AppWith,
    clock: FrozenClock,
    mail_inbox: MailInbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LifespanManager]:
    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(clock=clock, email_backend="smtp", smtp_port=mail_inbox.port) as app:
            yield app


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager, client=("192.0.2.44", 4000)) as http:
        yield http


async def test_the_owner_gets_one_download_of_their_data(
    client: httpx.AsyncClient, mail_inbox: MailInbox, settings: Settings
) -> None:
    email = await verified_user(client, mail_inbox, unique_email("export"))
    token = (await login(client, email))["accessToken"]
    requested = answer(await call(client, REQUEST_EXPORT, token=token), "requestDataExport")
    assert requested["__typename"] == "DataExportRequested"

    (mail,) = await mail_inbox.wait_for(email, READY, seconds=30)
    assert f"{DOWNLOAD}?token=" in mail.text
    response = await client.get(DOWNLOAD, params={"token": mail.token()})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    archive = response.json()
    assert archive["format"] == "gatehouse.personal-data/1"
    records = archive["records"]
    (profile,) = records["users"]
    assert profile["email"] == email
    assert profile["first_name"] == "Ada"
    assert any(s["ip"] == "192.0.2.44" for s in records["sessions"])
    events = {e["event"] for e in records["audit_events"]}
    assert {"user.registered", "user.login", "privacy.export_requested"} <= events
    assert "verify_email" in {m["template"] for m in records["email_messages"]}
    # Metadata only: no hash, secret or sealed content left the database.
    for marker in ("password_hash", "argon2", "sealed", "secret_hash"):
        assert marker not in response.text
    # The file left the directory with the download.
    assert export_files(settings) == []

    again = await client.get(DOWNLOAD, params={"token": mail.token()})
    assert again.status_code == 404
    assert again.json()["code"] == "EXPORT_UNAVAILABLE"
    assert "Traceback" not in again.text


async def test_the_export_names_no_administrator_who_acted_on_the_account(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    """As in mySecurityEvents (SECURITY.md 4.2.1): what an administrator did, and did while
    impersonating the person, is in the export, without the administrator's network
    details or id (the full trail keeps them)."""
    email = await verified_user(client, mail_inbox, unique_email("export.helped"))
    user = await user_repository.find_by_email(email)
    assert user is not None
    admin_id = await support_visit(manager, clock, str(user.id), first_name="Helped")
    impersonated = await AuditEvent.find_one(
        {"event": "user.profile_updated", "target_id": str(user.id)}
    )
    assert impersonated is not None  # the trail has it all: the proof below means something
    assert (impersonated.ip, impersonated.details["impersonator_id"]) == (ADMIN_IP, admin_id)

    token = (await login(client, email))["accessToken"]
    await call(client, REQUEST_EXPORT, token=token)
    (mail,) = await mail_inbox.wait_for(email, READY, seconds=30)
    response = await client.get(DOWNLOAD, params={"token": mail.token()})
    assert response.status_code == 200, response.text
    for trace in (ADMIN_IP, ADMIN_AGENT, admin_id):
        assert trace not in response.text
    events = response.json()["records"]["audit_events"]
    names = {e["event"] for e in events}
    assert {"admin.user_updated", "impersonation.started", "user.profile_updated"} <= names
    (profile_updated,) = [e for e in events if e["event"] == "user.profile_updated"]
    assert profile_updated["details"]["impersonated"] is True
    own = [e for e in events if e["event"] == "user.login"]
    assert own
    assert all(e["ip"] == "192.0.2.44" for e in own)  # the person's own stay


async def test_two_racing_downloads_one_wins(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox, unique_email("export.race"))
    token = (await login(client, email))["accessToken"]
    await call(client, REQUEST_EXPORT, token=token)
    (mail,) = await mail_inbox.wait_for(email, READY, seconds=30)
    first, second = await asyncio.gather(
        *(client.get(DOWNLOAD, params={"token": mail.token()}) for _ in range(2))
    )
    assert sorted([first.status_code, second.status_code]) == [200, 404]


async def test_dead_links_get_the_same_json_answer(client: httpx.AsyncClient) -> None:
    for params in ({}, {"token": "x"}, {"token": secrets.token_urlsafe(32)}):
        response = await client.get(DOWNLOAD, params=params)
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "EXPORT_UNAVAILABLE"
        assert set(body) >= {"error", "message", "statusCode", "timestamp", "requestId"}


async def test_an_administrator_exports_for_a_user_to_the_users_own_address(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox
) -> None:
    admin_email = unique_email("export.admin")
    admin = await staff_account(manager.state, admin_email, PASSWORD, Role.ADMIN)
    email = await verified_user(client, mail_inbox, unique_email("export.subject"))
    user = await user_repository.find_by_email(email)
    assert user is not None
    token = (await login(client, admin_email))["accessToken"]
    body = await call(client, EXPORT_USER, {"id": str(user.id)}, token)
    assert answer(body, "exportUserData")["__typename"] == "DataExportRequested"
    await mail_inbox.wait_for(email, READY, seconds=30)
    assert not [m for m in mail_inbox.all(admin_email) if READY in m.subject.lower()]
    requested = await AuditEvent.find_one(
        {"event": "privacy.export_requested", "target_id": str(user.id)}
    )
    assert requested is not None
    assert requested.actor_id == str(admin.id)
    assert requested.details["by"] == "admin"

    missing = await call(client, EXPORT_USER, {"id": "65f000000000000000000000"}, token)
    assert answer(missing, "exportUserData")["__typename"] == "NotFound"
    student = (await login(client, email))["accessToken"]
    refused = await call(client, EXPORT_USER, {"id": str(user.id)}, student)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_expired_link_is_refused_and_the_sweep_removes_its_file(
    client: httpx.AsyncClient,
    manager: LifespanManager,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    email = await verified_user(client, mail_inbox, unique_email("export.expired"))
    user = await user_repository.find_by_email(email)
    assert user is not None
    exports = manager.state.services.privacy.exports
    # What the worker's job does, here on the test's clock.
    name = await exports.build(secrets.token_hex(8), str(user.id))
    assert name is not None
    assert name in [p.name for p in export_files(settings)]
    (mail,) = await mail_inbox.wait_for(email, READY, seconds=30)
    clock.advance(timedelta(seconds=settings.export_link_ttl_seconds + 1))
    response = await client.get(DOWNLOAD, params={"token": mail.token()})
    assert response.status_code == 404
    # (The worker's files, named by the real clock's expiry, are not due yet.)
    assert await exports.purge_expired() >= 1
    assert name not in [p.name for p in export_files(settings)]
