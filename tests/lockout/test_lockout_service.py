"""The lockout slice at service level, against the real FerretDB and Redis the session
starts: the tenth failure locks (one lock, one audit event), an address without an
account locks alike, and unlocking clears the lock, the count and the marker."""

from __future__ import annotations

from contextlib import suppress

import pytest

from domain.audit.documents import AuditEvent
from domain.core.actor import Actor
from domain.core.roles import Role
from domain.identity.documents import User
from domain.identity.errors import AccountLockedError
from domain.lockout.service import LockoutService
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

PASSWORD = "correct horse battery staple 42"


async def test_the_tenth_failure_locks_the_account_once(app: LifespanManager) -> None:
    lockout: LockoutService = app.state.services.lockout
    user = await staff_account(app.state, "locked.once@example.com", PASSWORD, Role.STUDENT)
    for _ in range(app.state.settings.lockout_threshold - 1):
        await lockout.record_failed_attempt(user, Actor.system())
    assert not await lockout.check(user.email)
    with pytest.raises(AccountLockedError):
        await lockout.record_failed_attempt(user, Actor.system())
    with pytest.raises(AccountLockedError):
        await lockout.record_failed_attempt(user, Actor.system())
    stored = await User.get(user.id)
    assert stored is not None
    assert stored.locked_at is not None
    assert stored.failed_login_count == app.state.settings.lockout_threshold
    assert await lockout.check(user.email)
    locks = await AuditEvent.find({"event": "user.locked", "target_id": str(user.id)}).count()
    assert locks == 1


async def test_an_address_without_an_account_locks_alike(app: LifespanManager) -> None:
    lockout: LockoutService = app.state.services.lockout
    email = "nobody.here@example.com"
    for _ in range(app.state.settings.lockout_threshold - 1):
        await lockout.record_unknown_failure(email, Actor.system())
    with pytest.raises(AccountLockedError):
        await lockout.record_unknown_failure(email, Actor.system())
    assert await lockout.check(email)
    assert await AuditEvent.find({"event": "login.address_locked"}).count() == 1


async def test_unlock_clears_the_lock_the_count_and_the_marker(app: LifespanManager) -> None:
    lockout: LockoutService = app.state.services.lockout
    user = await staff_account(app.state, "unlocked@example.com", PASSWORD, Role.STUDENT)
    for _ in range(app.state.settings.lockout_threshold):
        with suppress(AccountLockedError):
            await lockout.record_failed_attempt(user, Actor.system())
    assert await lockout.check(user.email)
    await lockout.unlock(user, Actor.system())
    stored = await User.get(user.id)
    assert stored is not None
    assert stored.locked_at is None
    assert not await lockout.check(user.email)
    # Counting starts again from zero: nine more failures do not lock.
    for _ in range(app.state.settings.lockout_threshold - 1):
        await lockout.record_failed_attempt(user, Actor.system())
    assert not await lockout.check(user.email)
