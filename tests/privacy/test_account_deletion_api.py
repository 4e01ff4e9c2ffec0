"""Self-service account deletion with an undo window, and the administrators' soft
delete, through GraphQL against the real database, Redis, SMTP and a worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity import repository as user_repository
from domain.identity.documents import User, UserStatus
from domain.privacy.documents import PendingErasure
from tests.api.identity_ops import (
    LOGIN,
    ME,
    PASSWORD,
    REQUEST_EMAIL_CHANGE,
    call,
    error_code,
    login,
    register,
    unique_email,
    verified_user,
)
from tests.privacy.support import CANCEL, DELETE_ME, DELETE_USER, RESTORE_USER, answer
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox
from workers.actors.privacy import privacy_sweep

CLOCK_START = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
GRACE_DAYS = 3
SCHEDULED = "will be deleted"


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(
        email_backend="smtp", smtp_port=mail_inbox.port, account_deletion_grace_days=GRACE_DAYS
    )


@pytest.fixture(scope="module")
async def manager(
    settings: Settings,
    app_with: AppWith,
    clock: FrozenClock,
    mail_inbox: MailInbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LifespanManager]:
    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(
            clock=clock,
            email_backend="smtp",
            smtp_port=mail_inbox.port,
            account_deletion_grace_days=GRACE_DAYS,
        ) as app:
            yield app


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def _until(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait for the worker: until ``read`` answers ``expected`` (10 seconds at most)."""
    for _ in range(200):
        if await read() == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {await read()!r}")


async def _user(email: str) -> User:
    user = await user_repository.find_by_email(email)
    assert user is not None
    return user


async def test_the_last_super_admin_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    # The module's database is fresh: this is the only super-admin.
    boss = unique_email("deletion.boss")
    await staff_account(manager.state, boss, PASSWORD, Role.SUPER_ADMIN)
    token = (await login(client, boss))["accessToken"]
    refused = answer(await call(client, DELETE_ME, token=token), "deleteMyAccount")
    assert refused["__typename"] == "LastSuperAdmin"
    assert refused["code"] == "LAST_SUPER_ADMIN"
    assert (await _user(boss)).status is UserStatus.ACTIVE
    assert (await call(client, ME, token=token))["data"]["me"]["email"] == boss
    assert await AuditEvent.find_one({"event": "user.deletion_refused"}) is not None

    # With another super-admin appointed, the first may go.
    await staff_account(manager.state, unique_email("deletion.boss2"), PASSWORD, Role.SUPER_ADMIN)
    scheduled = answer(await call(client, DELETE_ME, token=token), "deleteMyAccount")
    assert scheduled["__typename"] == "AccountDeletionScheduled"


async def test_deletion_signs_out_everywhere_and_the_link_restores_the_account(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox, unique_email("deletion.self"))
    laptop = (await login(client, email))["accessToken"]
    phone = (await login(client, email))["accessToken"]

    scheduled = answer(await call(client, DELETE_ME, token=laptop), "deleteMyAccount")
    assert scheduled["__typename"] == "AccountDeletionScheduled"
    erase_after = datetime.fromisoformat(scheduled["eraseAfter"])
    assert erase_after == clock.now() + timedelta(days=GRACE_DAYS)
    # Every session ended at once, this one included.
    for token in (laptop, phone):
        assert error_code(await call(client, ME, token=token)) == "UNAUTHENTICATED"
    # Sign-in answers exactly as for an address without an account.
    refused = (await call(client, LOGIN, {"email": email, "password": PASSWORD}))["data"]
    nobody = await call(client, LOGIN, {"email": unique_email("nobody"), "password": PASSWORD})
    assert refused["login"] == nobody["data"]["login"]
    assert refused["login"]["__typename"] == "InvalidCredentials"
    pending = await PendingErasure.get((await _user(email)).id)
    assert pending is not None
    assert pending.requested_by == "self"

    (mail,) = await mail_inbox.wait_for(email, SCHEDULED)
    assert f"{GRACE_DAYS} days" in mail.text
    restored = answer(await call(client, CANCEL, {"token": mail.token()}), "cancelAccountDeletion")
    assert restored["__typename"] == "AccountDeletionCancelled"
    # The same password signs in again; the erasure is off; the owner is told.
    assert (await login(client, email))["__typename"] == "AuthPayload"
    assert await PendingErasure.get((await _user(email)).id) is None
    await mail_inbox.wait_for(email, "was restored")
    again = answer(await call(client, CANCEL, {"token": mail.token()}), "cancelAccountDeletion")
    assert again["__typename"] == "InvalidToken"
    user_id = str((await _user(email)).id)
    events = {e.event for e in await AuditEvent.find({"target_id": user_id}).to_list()}
    assert {"user.deletion_requested", "user.deletion_cancelled"} <= events


async def test_bad_cancel_tokens_are_typed_refusals(client: httpx.AsyncClient) -> None:
    for token in ("", "x" * 43, "not a token"):
        refused = answer(await call(client, CANCEL, {"token": token}), "cancelAccountDeletion")
        assert refused["__typename"] == "InvalidToken"


async def test_an_administrators_delete_is_erased_too_unless_restored(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox
) -> None:
    admin = unique_email("deletion.admin")
    await staff_account(manager.state, admin, PASSWORD, Role.ADMIN)
    token = (await login(client, admin))["accessToken"]
    email = await verified_user(client, mail_inbox, unique_email("deletion.byadmin"))
    user = await _user(email)
    variables = {"id": str(user.id)}
    assert (
        answer(await call(client, DELETE_USER, variables, token), "deleteUser")["__typename"]
        == "UserUpdated"
    )
    pending = await PendingErasure.get(user.id)
    assert pending is not None
    assert pending.requested_by == "admin"
    assert (
        answer(await call(client, RESTORE_USER, variables, token), "restoreUser")["__typename"]
        == "UserUpdated"
    )
    assert await PendingErasure.get(user.id) is None
    await call(client, DELETE_USER, variables, token)
    pending = await PendingErasure.get(user.id)
    assert pending is not None

    # The scheduler's privacy.sweep, run by the worker process: its clock is the real one,
    # past this module's frozen one, so the grace period is over there.
    assert pending.erase_after.replace(tzinfo=UTC) < datetime.now(UTC)
    privacy_sweep.send()
    await _until(lambda: User.get(user.id), None)
    assert await user_repository.find_by_email(email) is None
    assert await PendingErasure.get(user.id) is None
    erased = await AuditEvent.find_one({"event": "privacy.user_erased", "target_id": str(user.id)})
    assert erased is not None  # the id, for webhook receivers to erase theirs
    assert erased.actor_type == "system"


async def test_the_address_stays_reserved_through_erasure_and_the_grace_after(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    """Last in the module: it moves the clock past two grace periods."""
    email = await verified_user(client, mail_inbox, unique_email("deletion.reuse"))
    token = (await login(client, email))["accessToken"]
    await call(client, DELETE_ME, token=token)
    user_id = (await _user(email)).id

    # During the grace period the address is taken: the usual quiet answer.
    assert (await register(client, email))["__typename"] == "RegistrationAccepted"
    clock.advance(timedelta(days=GRACE_DAYS, seconds=1))
    erasure = manager.state.services.privacy.erasure
    assert await erasure.erase_due() >= 1  # what the worker's privacy.sweep runs
    assert await User.get(user_id) is None
    assert await user_repository.find_by_email(email) is None
    erased = await AuditEvent.find_one({"event": "privacy.user_erased", "target_id": str(user_id)})
    assert erased is not None

    # After erasure the tombstone answers as a taken address would, and no account appears.
    assert (await register(client, email))["__typename"] == "RegistrationAccepted"
    assert await user_repository.find_by_email(email) is None
    # Nor does another account take the address by changing its own to it.
    other = await verified_user(client, mail_inbox, unique_email("deletion.other"))
    other_token = (await login(client, other))["accessToken"]
    moved = await call(
        client, REQUEST_EMAIL_CHANGE, {"email": email, "password": PASSWORD}, token=other_token
    )
    assert moved["data"]["requestEmailChange"]["__typename"] == "EmailTaken", moved
    confirmations = len([m for m in mail_inbox.all(email) if "Confirm" in m.subject])
    # Once the tombstone expires the address is free again.
    clock.advance(timedelta(days=GRACE_DAYS, seconds=1))
    assert (await register(client, email))["__typename"] == "RegistrationAccepted"
    await mail_inbox.wait_for(email, "Confirm your email", count=confirmations + 1)
    assert await user_repository.find_by_email(email) is not None
    assert await manager.state.services.privacy.tombstones.purge_expired() >= 1
