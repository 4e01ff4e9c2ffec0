"""Queries on second factors that serve many users at once."""

from __future__ import annotations

from collections.abc import Iterable

from beanie import PydanticObjectId
from beanie.operators import NE, In

from domain.mfa.documents import TotpCredential


async def users_with_two_factor(user_ids: Iterable[str]) -> set[str]:
    """Which of these users have a confirmed TOTP secret: one query for them all."""
    wanted = {PydanticObjectId(u) for u in user_ids if PydanticObjectId.is_valid(u)}
    if not wanted:
        return set()
    found = await TotpCredential.find(
        In(TotpCredential.id, list(wanted)), NE(TotpCredential.confirmed_at, None)
    ).to_list()
    return {str(credential.user_id) for credential in found}
