"""Per-request DataLoaders: a field asked for on every row of a page is fetched once."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from domain.analytics.clients import ClientSignIns
from domain.mfa.repository import users_with_two_factor
from domain.passwordless.methods import Credentials, credentials_of


async def _two_factor_enabled(user_ids: list[str]) -> list[bool]:
    enabled = await users_with_two_factor(user_ids)
    return [user_id in enabled for user_id in user_ids]


def _two_factor_loader() -> DataLoader[str, bool]:
    # Batched within a tick but not remembered: a WebSocket's context lives as long as
    # its connection, and a remembered answer would go stale there.
    return DataLoader(load_fn=_two_factor_enabled, cache=False)


def _credentials_loader() -> DataLoader[str, Credentials]:
    return DataLoader(load_fn=credentials_of, cache=False)


@dataclass(slots=True)
class Loaders:
    two_factor_enabled: DataLoader[str, bool] = field(default_factory=_two_factor_loader)
    # What each account signs in with (User.signInMethods).
    credentials: DataLoader[str, Credentials] = field(default_factory=_credentials_loader)
    # OAuthClient.signInCount, one loader per window in days (made by its resolver,
    # schema/oauth/sign_ins.py): every client of a list counted in one aggregation.
    client_sign_ins: dict[int, DataLoader[str, ClientSignIns]] = field(default_factory=dict)
