"""Staff accounts for tests, created the way scripts/create_admin.py creates them."""

from __future__ import annotations

from typing import Any

from domain.core.clock import Clock
from domain.core.roles import Role
from domain.identity.documents import User
from domain.identity.provisioning import create_user


async def staff_account(
    state: Any, email: str, password: str, role: Role, clock: Clock | None = None
) -> User:
    """A verified account with ``role``, through the same policy as every account."""
    return await create_user(
        settings=state.settings,
        clock=clock or state.clock,
        hasher=state.hasher,
        email=email,
        password=password,
        first_name="Staff",
        last_name=role.value,
        role=role,
        email_verified=True,
    )
