"""Queries on second factors that serve many users at once."""

from __future__ import annotations

from collections.abc import Iterable

from beanie import PydanticObjectId
from beanie.operators import NE, In

from domain.mfa.documents import TotpCredential


async def users_with_two_factor(user_ids: Iterable[str]) -> set[str]:
    """Which of these users have a confirmed TOTP secret: one query for them all (for one
    user, ``me``, a read of exactly ``{_id}``: the one filter FerretDB serves from an
    index; any other makes it read every enrolled user's credential)."""
    wanted = {PydanticObjectId(u) for u in user_ids if PydanticObjectId.is_valid(u)}
    if not wanted:
        return set()
    if len(wanted) == 1:
        (only,) = wanted
        credential = await TotpCredential.get(only)
        confirmed = credential is not None and credential.confirmed_at is not None
        return {str(only)} if confirmed else set()
    found = await TotpCredential.find(
        In(TotpCredential.id, list(wanted)), NE(TotpCredential.confirmed_at, None)
    ).to_list()
    return {str(credential.user_id) for credential in found}
