"""``OAuthClient.signInCount(days)``: the client's sign-ins from the analytics
(domain/analytics/clients.py), batched across a list of clients by a per-request
DataLoader."""

from __future__ import annotations

import strawberry
from strawberry.dataloader import DataLoader

from domain.analytics.clients import MAX_WINDOW_DAYS, ClientSignIns
from schema.context import Info


@strawberry.type(description="A client's sign-ins over the last `days` days (today included).")
class OAuthClientSignIns:
    days: int
    issued: int = strawberry.field(description="Authorization codes handed to the client.")
    exchanged: int = strawberry.field(
        description="Grants it exchanged for tokens (codes and device codes): sign-ins completed."
    )


def window_days(days: int) -> int:
    """1 to MAX_WINDOW_DAYS: a window beyond what analytics keep is the whole of it."""
    return min(max(days, 1), MAX_WINDOW_DAYS)


async def sign_ins(info: Info, client_id: str, days: int) -> OAuthClientSignIns:
    days = window_days(days)
    loaders = info.context.loaders.client_sign_ins
    loader = loaders.get(days)
    if loader is None:
        analytics = info.context.services.analytics

        async def load(client_ids: list[str]) -> list[ClientSignIns]:
            counted = await analytics.client_sign_ins(list(client_ids), days)
            return [counted[c] for c in client_ids]

        loader = loaders[days] = DataLoader(load_fn=load, cache=False)
    found = await loader.load(client_id)
    return OAuthClientSignIns(days=found.days, issued=found.issued, exchanged=found.exchanged)
